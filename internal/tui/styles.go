package tui

import (
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Colours are adaptive so the screens read on light and dark terminals; with NO_COLOR
// (or a pipe) lipgloss drops them and the marks and words still carry the meaning.
var (
	styleTitle   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B9A5FF"})
	styleHeading = lipgloss.NewStyle().Bold(true)
	styleDim     = lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#666666", Dark: "#999999"})
	styleOK      = lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"})
	styleWarn    = lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"})
	styleBad     = lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#F85149"})
	styleSelect  = lipgloss.NewStyle().Bold(true).Reverse(true)
)

// Marks are words or symbols that mean the same without colour.
const (
	markOK      = "✓"
	markFail    = "✗"
	markSkip    = "–"
	markWarn    = "!"
	markPending = "·"
	markWait    = "…"
)

// honourNoColor makes every style plain when NO_COLOR is set, whatever the terminal
// claims to support (huh's theme and lipgloss share the default renderer).
func honourNoColor() {
	if os.Getenv("NO_COLOR") != "" {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
}
