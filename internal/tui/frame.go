package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Minimum sizes below which the layout stops shrinking; a smaller terminal clips
// instead of wrapping every word onto its own line.
const (
	minWidth  = 40
	minHeight = 10
	// chromeLines are the title, the scroll line and the help line around every body.
	chromeLines = 3
)

// bodyHeight is how many body lines fit on a terminal of the given height.
func bodyHeight(height int) int { return max(height, minHeight) - chromeLines }

// clampWidth keeps text layout sane on very narrow terminals.
func clampWidth(width int) int { return max(width, minWidth) }

// frame lays out one screen: a title line, the body clipped to the space left
// (scrolled down by offset lines), a line saying whether more is above or below, and
// the keys at the bottom. Every screen goes through it, so every screen fits.
func frame(title, body string, keys []key.Binding, width, height, offset int) string {
	width = clampWidth(width)
	footer := helpLines(keys, width)
	lines := splitLines(body)
	room := bodyHeight(height) - (len(footer) - 1)
	offset = clampOffset(offset, len(lines), room)
	end := min(len(lines), offset+room)
	visible := lines[offset:end]
	for i, l := range visible {
		visible[i] = strings.TrimRight(ansi.Truncate(l, width, "…"), " ")
	}
	for len(visible) < room {
		visible = append(visible, "")
	}
	var scroll string
	switch {
	case offset > 0 && end < len(lines):
		scroll = fmt.Sprintf("↑↓ more above and below (%d/%d)", end, len(lines))
	case end < len(lines):
		scroll = fmt.Sprintf("↓ more below: pgdn (%d/%d)", end, len(lines))
	case offset > 0:
		scroll = "↑ more above: pgup"
	}
	out := []string{
		ansi.Truncate(styleTitle.Render("iamwizard · "+title), width, "…"),
	}
	out = append(out, visible...)
	out = append(out, styleDim.Render(scroll))
	out = append(out, footer...)
	return strings.Join(out, "\n")
}

// helpLines shows every key, on as many lines as the width needs: a key the footer
// cut off would be a key nobody knows about.
func helpLines(keys []key.Binding, width int) []string {
	h := help.New()
	var lines []string
	var cur []key.Binding
	for _, k := range keys {
		try := append(append([]key.Binding(nil), cur...), k)
		if len(cur) > 0 && lipgloss.Width(h.ShortHelpView(try)) > width {
			lines = append(lines, h.ShortHelpView(cur))
			cur = []key.Binding{k}
			continue
		}
		cur = try
	}
	lines = append(lines, h.ShortHelpView(cur))
	return lines
}

// clampOffset keeps a scroll offset within the content.
func clampOffset(offset, lines, room int) int {
	return max(0, min(offset, lines-room))
}

// splitLines splits rendered text into lines, dropping one trailing newline.
func splitLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// wrap word-wraps text to width with a hanging indent, for prose and long messages.
func wrap(s string, width, indent int) string {
	w := clampWidth(width) - indent
	return lipgloss.NewStyle().PaddingLeft(indent).Width(w + indent).Render(s)
}

// bullet word-wraps a list item with its text aligned under the first line's text.
func bullet(s string, width int) string {
	w := wrap(s, width, 4)
	return "  •" + w[3:]
}

// scroller is the scroll position of a screen whose body may not fit.
type scroller struct{ offset int }

// update scrolls by the key pressed, clamped to the body, and reports whether the
// key was a scrolling key.
func (s *scroller) update(msg tea.KeyMsg, body string, height int) bool {
	room := bodyHeight(height)
	switch {
	case key.Matches(msg, keys.Down):
		s.offset++
	case key.Matches(msg, keys.Up):
		s.offset--
	case key.Matches(msg, keys.PageDown):
		s.offset += room
	case key.Matches(msg, keys.PageUp):
		s.offset -= room
	default:
		return false
	}
	s.offset = clampOffset(s.offset, len(splitLines(body)), room)
	return true
}
