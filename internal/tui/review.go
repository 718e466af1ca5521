package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/plan"
)

// review shows the plan before anything is written: every step with its state, each
// document and diff, and the decisions only the administrator can make (adopting
// entities iamwizard did not create, choosing a key to delete at IAM's limit).
type review struct {
	planning bool
	err      error
	plan     plan.Plan
	cursor   int
	// viewing shows the selected step's documents full screen.
	viewing   bool
	docScroll scroller
	// decide is the open question (adopt, which key to delete), nil when none.
	decide *decision
}

func newReview(m *Model) *review { return &review{planning: true} }

// start plans with the current configuration.
func (r *review) start(m *Model) tea.Cmd {
	r.planning, r.err, r.decide = true, nil, nil
	return planCmd(m.ctx, m.cfg)
}

// stuck are the steps that stop apply until the administrator decides. Extra
// permissions on the user or role are reported but do not stop it, as on the command line.
func stuck(p plan.Plan) []plan.Step {
	var out []plan.Step
	for _, s := range p.Stuck() {
		if s.ID != plan.StepExtraPermissions {
			out = append(out, s)
		}
	}
	return out
}

func (r *review) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case planMsg:
		r.planning = false
		if msg.err != nil {
			r.err = msg.err
			return nil
		}
		m.eng, m.pre, r.plan = msg.eng, msg.pre, msg.plan
		r.cursor = min(r.cursor, max(len(r.plan.Steps)-1, 0))
		return nil
	case tea.KeyMsg:
		if r.planning {
			if key.Matches(msg, keys.Quit) {
				return m.quit()
			}
			return nil
		}
		if r.decide != nil {
			return r.decide.update(m, r, msg)
		}
		if r.viewing {
			return r.updateViewing(m, msg)
		}
		return r.updateList(m, msg)
	}
	return nil
}

// updateList handles the keys of the step list.
func (r *review) updateList(m *Model, msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Back):
		c := newChoices(m, nil)
		m.goTo(c)
		return c.init(m)
	case key.Matches(msg, keys.Quit):
		return m.quit()
	case r.err != nil && key.Matches(msg, keys.Retry):
		return r.start(m)
	case r.err != nil:
		return nil
	case key.Matches(msg, keys.Up):
		r.cursor = max(r.cursor-1, 0)
	case key.Matches(msg, keys.Down):
		r.cursor = min(r.cursor+1, len(r.plan.Steps)-1)
	case key.Matches(msg, keys.View):
		r.viewing, r.docScroll = true, scroller{}
	case key.Matches(msg, keys.Adopt) && len(notManaged(r.plan)) > 0:
		r.decide = adoptDecision(r.plan)
	case key.Matches(msg, keys.ChooseKey) && len(keyChoices(r.plan)) > 0:
		r.decide = keyDecision(r.plan)
	case key.Matches(msg, keys.Apply) && len(stuck(r.plan)) == 0:
		return r.proceed(m)
	case key.Matches(msg, keys.PageDown), key.Matches(msg, keys.PageUp):
		m.scroll.update(msg, r.listBody(m), m.height)
	}
	return nil
}

// updateViewing handles the keys of the document view.
func (r *review) updateViewing(m *Model, msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Back), key.Matches(msg, keys.Quit), key.Matches(msg, keys.View):
		r.viewing = false
	default:
		r.docScroll.update(msg, r.docBody(m), m.height)
	}
	return nil
}

// proceed applies a pending plan, or goes straight to the key and the checks when
// everything is in sync.
func (r *review) proceed(m *Model) tea.Cmd {
	if !r.plan.Pending() {
		m.outc.stage = stageApplied
		k := newKeyScreen(m, "")
		m.goTo(k)
		return nil
	}
	run := newApplyScreen(m, r.plan)
	m.goTo(run)
	return run.start(m)
}

// selected is the step under the cursor.
func (r *review) selected() (plan.Step, bool) {
	if r.cursor < 0 || r.cursor >= len(r.plan.Steps) {
		return plan.Step{}, false
	}
	return r.plan.Steps[r.cursor], true
}

// notManaged are the steps naming entities iamwizard did not create.
func notManaged(p plan.Plan) []plan.Step {
	var out []plan.Step
	for _, s := range p.Steps {
		if s.State == plan.NotManaged {
			out = append(out, s)
		}
	}
	return out
}

// keyChoices are the access keys the administrator may delete when the user is at
// IAM's limit: the plan lists them as "ID  Status  created DATE".
func keyChoices(p plan.Plan) []string {
	st := p.Step(plan.StepAccessKey)
	if st.State != plan.Blocked {
		return nil
	}
	var out []string
	for _, d := range st.Details {
		if f := strings.Fields(d); len(f) >= 4 && f[2] == "created" {
			out = append(out, d)
		}
	}
	return out
}
