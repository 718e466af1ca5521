package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"github.com/iamwizard/iamwizard/internal/plan"
)

// stateLabel is a step's state in words, padded so titles line up.
var stateLabel = map[plan.State]string{
	plan.InSync:     "in sync ",
	plan.Create:     "create  ",
	plan.Update:     "update  ",
	plan.NotManaged: "not ours",
	plan.Blocked:    "blocked ",
}

// stateStyle renders a step's mark and label.
func stateStyle(s plan.State) string {
	switch s {
	case plan.InSync:
		return styleOK.Render(markOK + " " + stateLabel[s])
	case plan.Create, plan.Update:
		return styleWarn.Render("+ " + stateLabel[s])
	}
	return styleBad.Render(markWarn + " " + stateLabel[s])
}

func (r *review) view(m *Model) string {
	switch {
	case r.planning:
		body := m.spin.View() + " Checking the admin identity, the bucket and what already exists (read-only)…"
		return frame("plan", wrap(body, m.width, 0), []key.Binding{keys.Quit}, m.width, m.height, 0)
	case r.err != nil:
		body := wrap(styleBad.Render(markFail+" "+errorText(r.err)), m.width, 0) + "\n\nNothing was written."
		help := []key.Binding{keys.Retry, with(keys.Back, "esc", "change choices"), keys.Quit}
		return frame("plan", body, help, m.width, m.height, 0)
	case r.decide != nil:
		return frame(r.decide.title, r.decide.body(m), r.decide.help(), m.width, m.height, 0)
	case r.viewing:
		st, _ := r.selected()
		help := []key.Binding{keys.Up, keys.Down, keys.PageDown, keys.PageUp, with(keys.Back, "esc", "back to the plan")}
		return frame(st.Title, r.docBody(m), help, m.width, m.height, r.docScroll.offset)
	}
	var help []key.Binding
	if len(stuck(r.plan)) == 0 {
		verb := "apply"
		if !r.plan.Pending() {
			verb = "continue to the checks"
		}
		help = append(help, with(keys.Apply, "y", verb))
	}
	if len(notManaged(r.plan)) > 0 {
		help = append(help, with(keys.Adopt, "a", "adopt"))
	}
	if len(keyChoices(r.plan)) > 0 {
		help = append(help, keys.ChooseKey)
	}
	help = append(help, with(keys.View, "v", "details & document"), with(keys.Up, "↑↓", "select step"),
		with(keys.Back, "esc", "change choices"), keys.Quit)
	return frame("plan review", r.listBody(m), help, m.width, m.height, m.scroll.offset)
}

// listBody is the identity, the counts, one line per step, what to do next and the
// selected step's detail.
func (r *review) listBody(m *Model) string {
	var b strings.Builder
	if m.pre != nil {
		b.WriteString(wrap("admin "+m.pre.AdminARN, m.width, 0) + "\n")
		where := fmt.Sprintf("account %s · bucket %s in %s", m.pre.Account, r.plan.Setup.Bucket, m.pre.Region)
		if m.pre.Endpoint != "" {
			where += " · endpoint " + m.pre.Endpoint
		}
		b.WriteString(wrap(styleDim.Render(where), m.width, 0) + "\n")
	}
	for _, w := range r.plan.Warnings {
		b.WriteString(wrap(styleWarn.Render(markWarn+" "+w), m.width, 2) + "\n")
	}
	counts := map[plan.State]int{}
	for _, s := range r.plan.Steps {
		counts[s.State]++
	}
	b.WriteString(styleHeading.Render(fmt.Sprintf("%d in sync · %d to create · %d to update · %d for you to decide",
		counts[plan.InSync], counts[plan.Create], counts[plan.Update], counts[plan.NotManaged]+counts[plan.Blocked])) + "\n")
	for i, s := range r.plan.Steps {
		line := stateStyle(s.State) + " " + s.Title
		if i == r.cursor {
			b.WriteString(styleSelect.Render("›") + " " + line + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString(wrap(r.nextStep(), m.width, 0) + "\n")
	if st, ok := r.selected(); ok {
		b.WriteString(stepDetail(st, m.width, false))
	}
	return b.String()
}

// nextStep says what the administrator can do from here.
func (r *review) nextStep() string {
	s := stuck(r.plan)
	switch {
	case len(s) > 0:
		var what []string
		if len(notManaged(r.plan)) > 0 {
			what = append(what, "a: adopt what iamwizard did not create (or esc: choose other names)")
		}
		if len(keyChoices(r.plan)) > 0 {
			what = append(what, "d: choose the access key to delete (or q: stop here)")
		}
		if len(what) == 0 {
			what = append(what, "see the fix below")
		}
		return styleBad.Render("Nothing can be applied yet: ") + strings.Join(what, "; ")
	case !r.plan.Pending():
		return styleOK.Render("Everything is in sync: nothing to repair.") + " y runs the live checks."
	}
	repair := 0
	for _, st := range r.plan.Steps {
		if st.State != plan.InSync && st.State != plan.Blocked {
			repair++
		}
	}
	return styleHeading.Render(fmt.Sprintf("y applies the %d steps that differ; nothing else is touched.", repair))
}

// stepDetail is what a person needs to judge a step: why, which calls, the details
// and the fix; full adds the diff and the desired document.
func stepDetail(st plan.Step, width int, full bool) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(wrap(s, width, 2) + "\n") }
	if st.Reason != "" {
		line(st.Reason)
	}
	if len(st.Operations) > 0 && st.State != plan.InSync && st.State != plan.NotManaged && st.State != plan.Blocked {
		line(styleDim.Render("calls: " + strings.Join(st.Operations, ", ")))
	}
	for _, d := range st.Details {
		line(d)
	}
	if st.Fix != "" {
		line("fix: " + st.Fix)
	}
	if !full {
		if st.Document != "" || st.Diff != "" {
			line(styleDim.Render("v shows the document" + map[bool]string{true: " and what changes", false: ""}[st.Diff != ""]))
		}
		return b.String()
	}
	if st.Diff != "" {
		b.WriteString("\n" + styleHeading.Render("What changes (- current, + desired)") + "\n")
		for _, l := range splitLines(st.Diff) {
			switch {
			case strings.HasPrefix(l, "- "):
				l = styleBad.Render(l)
			case strings.HasPrefix(l, "+ "):
				l = styleOK.Render(l)
			}
			b.WriteString(l + "\n")
		}
	}
	if st.Document != "" {
		b.WriteString("\n" + styleHeading.Render("Document iamwizard writes") + "\n" + st.Document + "\n")
	}
	return b.String()
}

// docBody is the selected step in full, for the document view.
func (r *review) docBody(m *Model) string {
	st, ok := r.selected()
	if !ok {
		return ""
	}
	return stateStyle(st.State) + "\n" + stepDetail(st, m.width, true)
}
