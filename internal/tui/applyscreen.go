package tui

import (
	"context"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/plan"
)

// applyScreen runs apply: one line per step with a spinner while it runs, the AWS
// operation, the elapsed time and IAM's propagation waits. Ctrl-C stops between calls.
type applyScreen struct {
	plan    plan.Plan
	prog    progress
	stream  stream
	done    bool
	halting bool
	err     error
}

func newApplyScreen(_ *Model, p plan.Plan) *applyScreen {
	return &applyScreen{plan: p, prog: newProgress(p.Steps)}
}

// start runs apply in the background with a context Ctrl-C cancels.
func (a *applyScreen) start(m *Model) tea.Cmd {
	m.outc.stage = stageRunning
	var cmd tea.Cmd
	a.stream, cmd = applyCmd(m.runContext(), m.eng, a.plan)
	return cmd
}

// stopping notes that Ctrl-C asked the run to stop.
func (a *applyScreen) stopping() { a.halting = true }

func (a *applyScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventMsg:
		a.prog.add(msg.ev, m.now())
		return a.stream.next()
	case applyDoneMsg:
		m.runEnded()
		a.done, a.err, m.res = true, msg.err, msg.res
		switch {
		case msg.err != nil && (a.halting || errors.Is(msg.err, context.Canceled)):
			m.outc.interrupted = true
		case msg.err != nil:
			m.outc.err = msg.err
		default:
			m.outc.stage = stageApplied
		}
		return nil
	case tea.KeyMsg:
		switch {
		case a.done && a.err == nil && key.Matches(msg, keys.Continue):
			k := newKeyScreen(m, m.res.NewKeyID)
			m.goTo(k)
			return nil
		case a.done && key.Matches(msg, keys.Quit):
			return m.quit()
		default:
			m.scroll.update(msg, a.body(m), m.height)
		}
	}
	return nil
}

func (a *applyScreen) view(m *Model) string {
	help := []key.Binding{keys.Interrupt}
	if a.done {
		help = []key.Binding{keys.Quit}
		if a.err == nil {
			help = []key.Binding{with(keys.Continue, "enter", "the access key"), keys.Quit}
		}
	}
	return frame("applying", a.body(m), help, m.width, m.height, m.scroll.offset)
}

// body is the step lines and what the run's state means for the administrator.
func (a *applyScreen) body(m *Model) string {
	var b strings.Builder
	b.WriteString(a.prog.render(m.width, m.now(), m.spin.View()))
	b.WriteString("\n")
	switch {
	case !a.done && a.halting:
		b.WriteString(wrap(styleWarn.Render("Stopping after the current call… (Ctrl-C again quits at once)"), m.width, 0))
	case !a.done:
		b.WriteString(wrap(styleDim.Render("Ctrl-C stops cleanly between calls; re-running iamwizard resumes."), m.width, 0))
	case m.outc.interrupted:
		b.WriteString(wrap(styleWarn.Render("Stopped between calls. Nothing is half-written; re-running iamwizard continues where it stopped."), m.width, 0))
	case a.err != nil:
		b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(a.err)), m.width, 0))
	case len(m.res.Changed) == 0:
		b.WriteString(styleOK.Render(markOK + " Nothing needed changing."))
	default:
		b.WriteString(wrap(styleOK.Render(markOK+" Applied: ")+strings.Join(m.res.Changed, ", "), m.width, 0))
	}
	for _, p := range m.res.BackupPaths {
		b.WriteString("\n" + wrap(styleDim.Render("backup of a replaced file: "+p), m.width, 0))
	}
	return b.String()
}
