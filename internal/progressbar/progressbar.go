// Package progressbar draws the progress of one transfer on a single terminal line.
package progressbar

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/iamwizard/iamwizard/internal/bytesize"
)

// width is the bar's length in cells; with label and sizes the line fits 80 columns.
const width = 30

// interval limits redraws, because parts finish in bursts and a terminal redrawn
// thousands of times a second slows the transfer it reports.
const interval = 100 * time.Millisecond

// Bar is one transfer's line. It is safe for concurrent use, since parts finish on
// several goroutines.
type Bar struct {
	w     io.Writer
	label string
	now   func() time.Time

	mu    sync.Mutex
	drawn time.Time
	last  string
}

// New returns a bar for label writing to w (a terminal).
func New(w io.Writer, label string) *Bar {
	if len(label) > 24 {
		label = "…" + label[len(label)-23:]
	}
	return &Bar{w: w, label: label, now: time.Now}
}

// Update redraws the line for sent of total bytes (total <= 0: unknown), at most ten
// times a second except for the first and last report.
func (b *Bar) Update(sent, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.drawn.IsZero() && now.Sub(b.drawn) < interval && sent != total {
		return
	}
	b.drawn = now
	line := render(b.label, sent, total)
	if line == b.last {
		return
	}
	b.last = line
	_, _ = fmt.Fprint(b.w, "\r"+line)
}

// Finish ends the line, so that what follows starts on a new one.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != "" {
		// Clear the bar: the caller prints the result in its place.
		_, _ = fmt.Fprint(b.w, "\r"+strings.Repeat(" ", len([]rune(b.last)))+"\r")
		b.last = ""
	}
}

func render(label string, sent, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%-24s %s", label, bytesize.Format(sent))
	}
	sent = min(max(sent, 0), total)
	filled := int(sent * width / total)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%-24s [%s] %3d%% %s / %s", label, bar, sent*100/total, bytesize.Format(sent), bytesize.Format(total))
}
