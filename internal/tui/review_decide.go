package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/plan"
)

// decision is a question the plan cannot answer alone: whether to adopt entities
// iamwizard did not create, or which access key to delete at IAM's 2-key limit.
// Either answer changes the configuration and plans again; nothing is written here.
type decision struct {
	title      string
	adopt      []plan.Step // adopt: the entities in question
	keys       []string    // key choice: "ID  Status  created DATE", then "stop"
	cursor     int
	confirming bool
}

// stopChoice ends the wizard at the key choice without changing anything.
const stopChoice = "stop here: change nothing"

func adoptDecision(p plan.Plan) *decision {
	return &decision{title: "adopt existing entities?", adopt: notManaged(p)}
}

func keyDecision(p plan.Plan) *decision {
	return &decision{title: "access key limit", keys: append(keyChoices(p), stopChoice)}
}

// keyID is the key id at the start of a key choice line.
func keyID(choice string) string {
	if f := strings.Fields(choice); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (d *decision) update(m *Model, r *review, msg tea.KeyMsg) tea.Cmd {
	if d.adopt != nil {
		switch {
		case key.Matches(msg, keys.Yes):
			m.cfg.Adopt = true
			return r.start(m)
		case key.Matches(msg, keys.No):
			r.decide = nil
		}
		return nil
	}
	if d.confirming {
		switch {
		case key.Matches(msg, keys.Yes):
			m.cfg.ReplaceKey = keyID(d.keys[d.cursor])
			return r.start(m)
		case key.Matches(msg, keys.No):
			d.confirming = false
		}
		return nil
	}
	switch {
	case key.Matches(msg, keys.Up):
		d.cursor = max(d.cursor-1, 0)
	case key.Matches(msg, keys.Down):
		d.cursor = min(d.cursor+1, len(d.keys)-1)
	case key.Matches(msg, keys.Continue):
		if d.keys[d.cursor] == stopChoice {
			return m.quit()
		}
		d.confirming = true
	case key.Matches(msg, keys.Back):
		r.decide = nil
	}
	return nil
}

func (d *decision) body(m *Model) string {
	var b strings.Builder
	if d.adopt != nil {
		b.WriteString(wrap("These exist already and were not created by iamwizard:", m.width, 0) + "\n")
		for _, st := range d.adopt {
			b.WriteString(styleHeading.Render(st.Title) + "\n")
			for _, det := range st.Details {
				b.WriteString(wrap(det, m.width, 2) + "\n")
			}
		}
		b.WriteString("\n" + wrap("Adopt them? iamwizard then tags them as its own and changes them to match the plan (documents, trust policy, attachments). Anything else using them may be affected. The plan is shown again before anything is written.", m.width, 0))
		return b.String()
	}
	b.WriteString(wrap("The user already has 2 access keys, IAM's limit. To store a new key, one must be deleted first; make sure nothing still uses it.", m.width, 0) + "\n\n")
	for i, k := range d.keys {
		prefix := "  "
		if i == d.cursor {
			prefix = styleSelect.Render("›") + " "
		}
		b.WriteString(prefix + k + "\n")
	}
	if d.confirming {
		b.WriteString("\n" + styleBad.Render("Delete "+keyID(d.keys[d.cursor])+"?") +
			wrap(" It is deleted just before the new key is created. The plan is shown again first.", m.width, 0))
	}
	return b.String()
}

func (d *decision) help() []key.Binding {
	switch {
	case d.adopt != nil:
		return []key.Binding{with(keys.Yes, "y", "adopt and re-plan"), with(keys.No, "n/esc", "back")}
	case d.confirming:
		return []key.Binding{with(keys.Yes, "y", "delete it and re-plan"), with(keys.No, "n/esc", "no")}
	}
	return []key.Binding{keys.Up, keys.Down, with(keys.Continue, "enter", "choose"), with(keys.Back, "esc", "back")}
}
