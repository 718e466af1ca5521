package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
)

// welcome says what will be created and why, and which admin identity will do it,
// with a way to pick another admin profile or region.
type welcome struct {
	checking bool
	err      error
	// edit is the profile/region form while it is open.
	edit            *huh.Form
	profile, region string
}

func newWelcome(m *Model) *welcome {
	return &welcome{checking: m.pre == nil && (m.cfg.Choices.Bucket != "" || m.identify != nil)}
}

// welcomeInit checks the admin identity: with a known bucket through the engine's
// preflight (identity and bucket together), on a first run through the engine's
// Identify, which also lists the buckets the admin can see for the bucket field.
func welcomeInit(m *Model) tea.Cmd {
	w, ok := m.cur.(*welcome)
	if !ok || !w.checking {
		return nil
	}
	if m.cfg.Choices.Bucket != "" {
		return preflightCmd(m.ctx, m.cfg)
	}
	return identifyCmd(m.ctx, m.cfg, m.identify)
}

func (w *welcome) update(m *Model, msg tea.Msg) tea.Cmd {
	if w.edit != nil {
		return w.updateEdit(m, msg)
	}
	switch msg := msg.(type) {
	case preflightMsg:
		w.checking = false
		m.pre, w.err = msg.pre, msg.err
	case identityMsg:
		w.checking = false
		m.identity, w.err = msg.id, msg.err
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, keys.Continue):
			c := newChoices(m, nil)
			m.goTo(c)
			return c.init(m)
		case key.Matches(msg, keys.Edit):
			w.profile, w.region = m.cfg.Choices.Profile, m.cfg.Choices.Region
			w.edit = newForm(huh.NewGroup(
				huh.NewInput().Key("profile").Title("Admin profile").
					Description("An administrator profile from ~/.aws/config; empty uses the SDK's chain (environment, AWS_PROFILE, SSO).").
					Value(&w.profile).Validate(validateOptionalProfile),
				huh.NewInput().Key("region").Title("Region").
					Description("For the STS and S3 calls; empty uses the profile's. The bucket's own region is learned.").
					Value(&w.region).Validate(validateRegion),
			))
			return tea.Batch(w.edit.Init(), func() tea.Msg { return formSize(m.width, m.height) })
		case key.Matches(msg, keys.Quit):
			return m.quit()
		default:
			m.scroll.update(msg, w.body(m), m.height)
		}
	}
	return nil
}

// updateEdit runs the profile/region form; on submit the identity is checked again.
func (w *welcome) updateEdit(m *Model, msg tea.Msg) tea.Cmd {
	if size, ok := msg.(tea.WindowSizeMsg); ok {
		msg = formSize(size.Width, size.Height)
	}
	f, cmd := w.edit.Update(msg)
	w.edit = f.(*huh.Form)
	switch w.edit.State {
	case huh.StateCompleted:
		w.edit = nil
		m.cfg.Choices.Profile, m.cfg.Choices.Region = strings.TrimSpace(w.profile), strings.TrimSpace(w.region)
		m.pre, m.identity, w.err = nil, nil, nil
		w.checking = m.cfg.Choices.Bucket != "" || m.identify != nil
		return welcomeInit(m)
	case huh.StateAborted:
		w.edit = nil
		return nil
	}
	return cmd
}

func (w *welcome) view(m *Model) string {
	if w.edit != nil {
		body := w.edit.View() + "\n" + liveCheck(w.edit)
		return frame("admin profile and region", body, []key.Binding{keys.Interrupt}, m.width, m.height, 0)
	}
	help := []key.Binding{with(keys.Continue, "enter", "choose the setup"), keys.Edit, keys.Quit}
	return frame("welcome", w.body(m), help, m.width, m.height, m.scroll.offset)
}

// body is the welcome text and the admin identity block.
func (w *welcome) body(m *Model) string {
	var b strings.Builder
	b.WriteString(wrap("iamwizard gives an application outside AWS the right to put objects into one S3 bucket, and nothing more. It creates:", m.width, 0) + "\n")
	b.WriteString(bullet("an IAM user whose only permission is to assume one role; its access key goes into the credentials file on this server", m.width) + "\n")
	b.WriteString(bullet("an IAM role that may only put objects into your bucket (under a prefix)", m.width) + "\n")
	b.WriteString(bullet("a role profile, so any AWS SDK or CLI trades the key for short-lived role credentials by itself", m.width) + "\n\n")
	b.WriteString(wrap("Why a role rather than permissions on the user? The stored key can do nothing but ask for the role; the role's credentials expire within the hour, and what it may do lives in one place you can tighten without touching the server.", m.width, 0) + "\n\n")
	b.WriteString(styleHeading.Render("Admin identity") + "\n")
	c := m.cfg.Choices
	profile := c.Profile
	if profile == "" {
		profile = "the SDK's default chain (environment, AWS_PROFILE, SSO)"
	}
	region := c.Region
	if region == "" {
		region = "the profile's"
	}
	switch {
	case w.checking:
		b.WriteString("  " + m.spin.View() + " checking who the admin credentials belong to…\n")
	case w.err != nil:
		b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(w.err)), m.width, 2) + "\n")
	case m.pre != nil:
		b.WriteString(wrap(m.pre.AdminARN, m.width, 2) + "\n")
		fmt.Fprintf(&b, "  account %s · bucket region %s\n", m.pre.Account, m.pre.Region)
		for _, warning := range m.pre.Warnings {
			b.WriteString(wrap(styleWarn.Render(markWarn+" "+warning), m.width, 2) + "\n")
		}
	case m.identity != nil:
		b.WriteString(wrap(m.identity.AdminARN, m.width, 2) + "\n")
		buckets := "may not list buckets: you will type the bucket's name"
		if m.identity.CanList {
			buckets = fmt.Sprintf("%d bucket(s) visible to pick from", len(m.identity.Buckets))
		}
		fmt.Fprintf(&b, "  account %s · %s\n", m.identity.Account, buckets)
		for _, warning := range m.identity.Warnings {
			b.WriteString(wrap(styleWarn.Render(markWarn+" "+warning), m.width, 2) + "\n")
		}
	default:
		b.WriteString(wrap("checked as soon as you have named the bucket (next screen)", m.width, 2) + "\n")
	}
	b.WriteString(wrap("profile: "+profile, m.width, 2) + "\n")
	b.WriteString(wrap("region: "+region, m.width, 2) + "\n")
	if c.EndpointURL != "" {
		b.WriteString(wrap("endpoint: "+c.EndpointURL+" (not AWS)", m.width, 2) + "\n")
	}
	b.WriteString("\n" + styleDim.Render("Nothing is written until you confirm the plan."))
	return b.String()
}

// errorText is an error as one line; an explained error already carries its fix.
func errorText(err error) string { return err.Error() }
