package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// summary lists the ARNs and files of the setup and what to run next.
type summary struct{}

func (s *summary) update(m *Model, msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, keys.Quit), key.Matches(km, keys.Continue):
			return m.quit()
		default:
			m.scroll.update(km, s.body(m), m.height)
		}
	}
	return nil
}

func (s *summary) view(m *Model) string {
	help := []key.Binding{keys.Up, keys.Down, with(keys.Quit, "q/enter", "quit")}
	return frame("summary", s.body(m), help, m.width, m.height, m.scroll.offset)
}

// body is the setup's ARNs, the files written and how to use them.
func (s *summary) body(m *Model) string {
	var b strings.Builder
	line := func(label, value string) { b.WriteString(wrap(styleDim.Render(label)+value, m.width, 2) + "\n") }
	switch {
	case m.outc.verifyFailed:
		b.WriteString(styleBad.Render(markFail+" The setup was applied, but a check failed.") + "\n")
	case m.outc.err != nil:
		b.WriteString(styleBad.Render(markFail+" The setup is incomplete.") + "\n")
	default:
		b.WriteString(styleOK.Render(markOK+" The setup is in place and verified.") + "\n")
	}
	if m.eng == nil {
		return b.String()
	}
	st, f := m.eng.Setup(), m.eng.Files()
	// What to run next comes first: it is what the administrator does after leaving.
	b.WriteString(wrap("The application needs only AWS_PROFILE="+f.RoleProfile+": any AWS SDK or CLI assumes "+st.RoleName+" with the stored key and renews the credentials by itself.", m.width, 0) + "\n")
	line("check again:  ", "iamwizard verify")
	line("from cron:    ", "iamwizard verify --no-write --output json")
	b.WriteString(styleHeading.Render("ARNs") + "\n")
	line("user         ", st.UserARN())
	line("role         ", st.RoleARN())
	line("user policy  ", st.UserPolicyARN())
	line("role policy  ", st.RolePolicyARN())
	b.WriteString(styleHeading.Render("Files written") + "\n")
	line("["+f.AppProfile+"] in ", f.CredentialsFile)
	line("[profile "+f.RoleProfile+"] in ", f.ConfigFile)
	if f.AppConfig != "" {
		line("[AWS] in ", f.AppConfig)
		line("", "The classic application reads RoleArn, BucketName and Profile from it.")
	}
	for _, p := range m.res.BackupPaths {
		line("backup: ", p)
	}
	return b.String()
}
