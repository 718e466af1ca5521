package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/verify"
)

// checkTitles name the live checks for a person.
var checkTitles = map[string]string{
	verify.CheckFilePermissions: "only you can read the credentials file",
	verify.CheckWhoAmI:          "the stored key says who it is",
	verify.CheckAssumeRole:      "the role profile assumes the role",
	verify.CheckUpload:          "a test object goes up through the role",
	verify.CheckReadBack:        "the test object arrived",
	verify.CheckRoleCannotRead:  "the role cannot read objects",
	verify.CheckUserCannotWrite: "the user cannot write by itself",
	verify.CheckCleanup:         "the test object was removed",
}

// checkTitle is a check's name for a person, its id when unknown.
func checkTitle(id string) string {
	if t, ok := checkTitles[id]; ok {
		return t
	}
	return id
}

// verifyScreen runs the live checks as the application would and shows each result,
// with the one-line fix for a failure.
type verifyScreen struct {
	prog    progress
	stream  stream
	done    bool
	halting bool
	report  verify.Report
	err     error
}

func newVerifyScreen(_ *Model) *verifyScreen { return &verifyScreen{} }

// start runs the checks in the background with a context Ctrl-C cancels.
func (v *verifyScreen) start(m *Model) tea.Cmd {
	v.prog, v.done, v.halting, v.err = progress{}, false, false, nil
	if m.eng == nil {
		v.done, v.err = true, fmt.Errorf("no plan was made, so there is nothing to check")
		return nil
	}
	var cmd tea.Cmd
	v.stream, cmd = verifyCmd(m.runContext(), m.eng)
	return cmd
}

// stopping notes that Ctrl-C asked the checks to stop.
func (v *verifyScreen) stopping() { v.halting = true }

func (v *verifyScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventMsg:
		ev := msg.ev
		v.prog.find(ev.Step, checkTitle(ev.Step))
		v.prog.add(ev, m.now())
		return v.stream.next()
	case verifyDoneMsg:
		m.runEnded()
		v.done, v.report, v.err = true, msg.report, msg.err
		m.outc.stage = stageVerified
		m.outc.verifyFailed = msg.err == nil && !msg.report.OK()
		switch {
		case v.halting:
			m.outc.interrupted = true
		case msg.err != nil:
			m.outc.err = msg.err
		}
		return nil
	case tea.KeyMsg:
		switch {
		case v.done && key.Matches(msg, keys.Continue):
			m.goTo(&summary{})
		case v.done && key.Matches(msg, keys.Retry):
			m.outc.interrupted = false
			return v.start(m)
		case v.done && key.Matches(msg, keys.Quit):
			return m.quit()
		default:
			m.scroll.update(msg, v.body(m), m.height)
		}
	}
	return nil
}

func (v *verifyScreen) view(m *Model) string {
	help := []key.Binding{keys.Interrupt}
	if v.done {
		help = []key.Binding{with(keys.Continue, "enter", "summary"), with(keys.Retry, "r", "check again"), keys.Quit}
	}
	return frame("verification", v.body(m), help, m.width, m.height, m.scroll.offset)
}

// body shows the checks as they run, then the report with a fix under each failure.
func (v *verifyScreen) body(m *Model) string {
	if !v.done {
		var b strings.Builder
		b.WriteString(wrap("Checking as the application would, with its own key and role profile (IAM can take a minute to make a new key usable):", m.width, 0) + "\n\n")
		b.WriteString(v.prog.render(m.width, m.now(), m.spin.View()))
		if v.halting {
			b.WriteString("\n" + styleWarn.Render("Stopping…"))
		}
		return b.String()
	}
	var b strings.Builder
	if v.err != nil {
		b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(v.err)), m.width, 0) + "\n")
		return b.String()
	}
	var checks strings.Builder
	failed := 0
	for _, c := range v.report.Checks {
		mark := styleOK.Render(markOK)
		switch {
		case c.Skipped:
			mark = styleDim.Render(markSkip)
		case !c.OK:
			mark, failed = styleBad.Render(markFail), failed+1
		case c.Warning:
			mark = styleWarn.Render(markWarn)
		}
		checks.WriteString(mark + " " + checkTitle(c.ID) + "\n")
		checks.WriteString(wrap(styleDim.Render(c.Message), m.width, 2) + "\n")
		if c.Fix != "" && (!c.OK || c.Warning) {
			checks.WriteString(wrap("fix: "+c.Fix, m.width, 2) + "\n")
		}
	}
	// The verdict comes first, so it is visible without scrolling.
	switch {
	case v.halting:
		b.WriteString(styleWarn.Render("Stopped. Run `iamwizard verify` to check again."))
	case failed == 0:
		b.WriteString(styleOK.Render(markOK + " All checks passed: the application can write, and only write."))
	default:
		b.WriteString(styleBad.Render(fmt.Sprintf("%s %d check(s) failed: see the fixes below.", markFail, failed)))
	}
	b.WriteString("\n\n" + checks.String())
	return b.String()
}
