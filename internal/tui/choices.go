package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
)

// choices is the form of every choice, prefilled with the remembered settings or the
// defaults and checked as you type with the command line's validators.
type choices struct {
	form *huh.Form
	// vals is what the form edits; it lives behind a pointer because huh keeps
	// pointers to its fields.
	vals *choiceValues
	// err is why the last submitted set was refused as a whole (engine.Validate).
	err error
}

// choiceValues are the form's fields as text.
type choiceValues struct {
	settings.Choices
	maxSession string
}

// newChoices opens the form on the current configuration; err is shown above it.
func newChoices(m *Model, err error) *choices {
	c := engine.WithDefaults(m.cfg.Choices)
	v := &choiceValues{Choices: c, maxSession: strconv.Itoa(int(c.MaxSessionDuration))}
	input := func(k, title, desc string, val *string) *huh.Input {
		return huh.NewInput().Key(k).Title(title).Description(desc).Value(val).Validate(validators[k])
	}
	bucket := input("bucket", "Bucket", "The existing bucket the application writes to (type its name; iamwizard never creates buckets).", &v.Bucket)
	if m.identity != nil && len(m.identity.Buckets) > 0 {
		// The admin may list buckets: offer them as completions, and still accept any name.
		bucket = bucket.Suggestions(m.identity.Buckets).
			Description("Type its name; ctrl+e completes one of the " + strconv.Itoa(len(m.identity.Buckets)) + " bucket(s) you can see.")
	}
	form := newForm(
		huh.NewGroup(
			bucket,
			input("key-prefix", "Key prefix", "The folder the application may write under, ending in /. Empty: the whole bucket.", &v.KeyPrefix),
		).Title("Where the application writes"),
		huh.NewGroup(
			input("user", "IAM user", "Holds the access key; may only assume the role.", &v.UserName),
			input("role", "IAM role", "May only put objects into the bucket.", &v.RoleName),
			input("user-policy", "User's policy", "Managed policy: sts:AssumeRole on the role.", &v.UserPolicyName),
			input("role-policy", "Role's policy", "Managed policy: s3:PutObject under the prefix.", &v.RolePolicyName),
			input("max-session", "Maximum session (seconds)", "How long role credentials last: 3600 to 43200.", &v.maxSession),
		).Title("IAM names"),
		huh.NewGroup(
			input("app-profile", "Key profile", "Profile holding the user's key in the credentials file.", &v.AppProfile),
			input("role-profile", "Role profile", "Profile the application uses (AWS_PROFILE); it assumes the role.", &v.RoleProfile),
			input("credentials", "Credentials file", "Where the key is stored.", &v.CredentialsFile),
			input("config", "Config file", "Where the profiles go.", &v.ConfigFile),
			input("app-config", "Application's INI file (optional)", "Also write [AWS] RoleArn, BucketName, Profile here. Empty: none.", &v.AppConfig),
		).Title("Profiles and files"),
	)
	return &choices{form: form, vals: v, err: err}
}

// init starts the form at the wizard's current size.
func (c *choices) init(m *Model) tea.Cmd {
	size := c.size(m.width, m.height)
	return tea.Batch(c.form.Init(), func() tea.Msg { return size })
}

func (c *choices) update(m *Model, msg tea.Msg) tea.Cmd {
	if size, ok := msg.(tea.WindowSizeMsg); ok {
		msg = c.size(size.Width, size.Height)
	}
	f, cmd := c.form.Update(msg)
	c.form = f.(*huh.Form)
	switch c.form.State {
	case huh.StateAborted:
		m.goTo(newWelcome(m))
		return nil
	case huh.StateCompleted:
		chosen, err := c.result(m.cfg.Choices)
		if err != nil {
			// A rule across fields (two profiles the same, two files the same): reopen
			// the form with the values kept and the reason on top.
			m.cfg.Choices = chosen
			next := newChoices(m, err)
			m.goTo(next)
			return next.init(m)
		}
		m.cfg.Choices = chosen
		r := newReview(m)
		m.goTo(r)
		return r.start(m)
	}
	return cmd
}

// size is the form's share of the screen: the refusal above it takes up to two lines.
func (c *choices) size(width, height int) tea.WindowSizeMsg {
	if c.err != nil {
		height -= 2
	}
	return formSize(width, height)
}

// result merges the form into the choices and validates the whole set as the
// engine will.
func (c *choices) result(base settings.Choices) (settings.Choices, error) {
	out := c.vals.Choices
	out.Profile, out.Region, out.EndpointURL = base.Profile, base.Region, base.EndpointURL
	for _, p := range []*string{&out.Bucket, &out.KeyPrefix, &out.UserName, &out.RoleName, &out.UserPolicyName,
		&out.RolePolicyName, &out.AppProfile, &out.RoleProfile, &out.CredentialsFile, &out.ConfigFile, &out.AppConfig} {
		*p = strings.TrimSpace(*p)
	}
	n, err := strconv.Atoi(strings.TrimSpace(c.vals.maxSession))
	if err != nil {
		return out, validateMaxSession(c.vals.maxSession)
	}
	out.MaxSessionDuration = int32(min(max(n, 0), 1<<30))
	return out, engine.Validate(engine.WithDefaults(out))
}

func (c *choices) view(m *Model) string {
	var b strings.Builder
	if c.err != nil {
		b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(c.err)), m.width, 0) + "\n")
	}
	b.WriteString(c.form.View())
	b.WriteString("\n" + liveCheck(c.form))
	help := []key.Binding{
		with(keys.Continue, "enter", "next"), key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous")),
		with(keys.Back, "esc", "back to welcome"), with(keys.Interrupt, "ctrl+c", "quit"),
	}
	return frame("your choices", b.String(), help, m.width, m.height, 0)
}
