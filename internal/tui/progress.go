package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
)

// rowState is where one step or check stands while a run goes on.
type rowState int

const (
	rowPending rowState = iota
	rowRunning
	rowWaiting
	rowDone
	rowSkipped
	rowWarned
	rowFailed
)

// row is one line of a run: a plan step during apply, a check during verify.
type row struct {
	id, title string
	state     rowState
	op        string // the AWS operation being (or last) called
	message   string
	fix       string
	inSync    bool
	started   time.Time
	elapsed   time.Duration
	waited    time.Duration
}

// progress is the list of rows of one run, drawn from the event stream.
type progress struct {
	rows []*row
}

// newProgress lists the plan's steps up front, so the whole run is visible from the start.
func newProgress(steps []plan.Step) progress {
	var p progress
	for _, s := range steps {
		p.rows = append(p.rows, &row{id: s.ID, title: shortTitle(s.Title)})
	}
	return p
}

// find returns the row for a step, adding one for steps not known up front (checks).
func (p *progress) find(id, title string) *row {
	for _, r := range p.rows {
		if r.id == id {
			return r
		}
	}
	r := &row{id: id, title: title}
	p.rows = append(p.rows, r)
	return r
}

// add updates the rows with one event; now is when it arrived.
func (p *progress) add(ev event.Event, now time.Time) {
	r := p.find(ev.Step, ev.Message)
	if r.started.IsZero() {
		r.started = now
	}
	if ev.Operation != "" {
		r.op = ev.Operation
	}
	switch ev.Kind {
	case event.Start, event.Call:
		r.state = rowRunning
	case event.Wait:
		r.state, r.waited = rowWaiting, ev.Waited
	case event.Done:
		if r.state != rowWarned {
			r.state = rowDone
		}
		r.inSync = strings.HasSuffix(ev.Message, ": in sync")
		r.elapsed = ev.Elapsed
		if r.elapsed == 0 {
			r.elapsed = now.Sub(r.started)
		}
		if r.state != rowWarned {
			r.message = ev.Message // a warning's message stays: it is what needs attention
		}
	case event.Skip:
		r.state, r.message, r.fix = rowSkipped, ev.Message, ev.Fix
	case event.Warn:
		r.state, r.message, r.fix = rowWarned, ev.Message, ev.Fix
	case event.Fail:
		r.state, r.message, r.fix = rowFailed, ev.Message, ev.Fix
	}
}

// render draws one line per row (with the message and fix below for problems);
// spin is the spinner's current frame and now the time for running rows' elapsed time.
func (p *progress) render(width int, now time.Time, spin string) string {
	var b strings.Builder
	for _, r := range p.rows {
		b.WriteString(r.line(now, spin))
		b.WriteByte('\n')
		if (r.state == rowFailed || r.state == rowSkipped || r.state == rowWarned) && r.message != "" && r.message != r.title {
			b.WriteString(wrap(styleDim.Render(r.message), width, 4))
			b.WriteByte('\n')
		}
		if r.fix != "" && r.state != rowDone {
			b.WriteString(wrap("fix: "+r.fix, width, 4))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// line is the row's one-line status: mark, title, operation and time.
func (r *row) line(now time.Time, spin string) string {
	switch r.state {
	case rowRunning:
		return fmt.Sprintf("%s %s  %s %s", spin, r.title, r.op, seconds(now.Sub(r.started)))
	case rowWaiting:
		return fmt.Sprintf("%s %s  %s", styleWarn.Render(markWait), r.title,
			styleWarn.Render(fmt.Sprintf("waiting for IAM to propagate (%d s)", int(r.waited.Seconds()))))
	case rowDone:
		if r.inSync {
			return fmt.Sprintf("%s %s  %s", styleOK.Render(markOK), r.title, styleDim.Render("in sync"))
		}
		return fmt.Sprintf("%s %s  %s", styleOK.Render(markOK), r.title, styleDim.Render(strings.TrimSpace(r.op+" "+seconds(r.elapsed))))
	case rowSkipped:
		return fmt.Sprintf("%s %s  %s", styleWarn.Render(markSkip), r.title, styleWarn.Render("left for you"))
	case rowWarned:
		return fmt.Sprintf("%s %s", styleWarn.Render(markWarn), r.title)
	case rowFailed:
		return fmt.Sprintf("%s %s  %s", styleBad.Render(markFail), r.title, styleBad.Render("failed "+r.op))
	}
	return fmt.Sprintf("%s %s", styleDim.Render(markPending), styleDim.Render(r.title))
}

// shortTitle drops a step title's explanation in parentheses, so the operation and
// the time still fit on the line; the plan review shows the whole title.
func shortTitle(t string) string {
	if i := strings.Index(t, " ("); i > 0 {
		return t[:i]
	}
	return t
}

// seconds formats a duration the way a person reads a stopwatch.
func seconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
