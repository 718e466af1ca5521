package tui

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// newForm builds a huh form to embed in the wizard: Esc goes back (Ctrl-C is the
// wizard's own), and finishing or leaving only changes the form's State, which the
// screen checks; the form never quits the program.
func newForm(groups ...*huh.Group) *huh.Form {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	theme := huh.ThemeCharm()
	if os.Getenv("NO_COLOR") != "" {
		theme = huh.ThemeBase()
	}
	f := huh.NewForm(groups...).WithKeyMap(km).WithTheme(theme).WithShowHelp(false)
	f.SubmitCmd, f.CancelCmd = nil, nil
	return f
}

// formSize is the size message an embedded form gets: the wizard's title, the
// validation line and the footer take their share first.
func formSize(width, height int) tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: clampWidth(width), Height: bodyHeight(height) - 1}
}

// validators are the command line's own checks, by form field key, so the wizard
// accepts exactly what the flags accept.
var validators = map[string]func(string) error{
	"profile":      validateOptionalProfile,
	"region":       validateRegion,
	"bucket":       setup.ValidateBucket,
	"key-prefix":   setup.ValidateKeyPrefix,
	"user":         setup.ValidateUserName,
	"role":         setup.ValidateRoleName,
	"user-policy":  setup.ValidatePolicyName,
	"role-policy":  setup.ValidatePolicyName,
	"max-session":  validateMaxSession,
	"app-profile":  validateProfile,
	"role-profile": validateProfile,
	"credentials":  validatePath,
	"config":       validatePath,
	"app-config":   validateOptionalPath,
}

// validate runs the validator for a field key (nil for unknown keys).
func validate(field, value string) error {
	if v, ok := validators[field]; ok {
		return v(value)
	}
	return nil
}

// validateProfile applies the credentials file's section-name rules, and refuses
// spaces as engine.Validate does.
func validateProfile(name string) error {
	if err := creds.ValidateName(name); err != nil {
		return err
	}
	if strings.ContainsAny(name, " \t") {
		return fmt.Errorf("%q: profile names cannot contain spaces", name)
	}
	return nil
}

// validateOptionalProfile allows empty: the SDK's default chain.
func validateOptionalProfile(name string) error {
	if name == "" {
		return nil
	}
	return validateProfile(name)
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)

// validateRegion accepts empty (the profile's region) or a region-shaped name.
func validateRegion(r string) error {
	if r == "" || regionPattern.MatchString(r) {
		return nil
	}
	return fmt.Errorf("%q does not look like a region (like us-east-1 or eu-west-3)", r)
}

// validateMaxSession parses seconds and applies IAM's range.
func validateMaxSession(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q: a number of seconds, 3600 to 43200", s)
	}
	return setup.ValidateMaxSessionDuration(n)
}

// validatePath refuses what engine.Validate refuses in a file path.
func validatePath(p string) error {
	if p == "" || strings.ContainsAny(p, "\x00\n\r") {
		return fmt.Errorf("%q is not a usable file path", p)
	}
	return nil
}

// validateOptionalPath allows empty: the file is not wanted.
func validateOptionalPath(p string) error {
	if p == "" {
		return nil
	}
	return validatePath(p)
}

// liveCheck is the line under a form: the focused field's value checked as you type.
func liveCheck(f *huh.Form) string {
	field := f.GetFocusedField()
	if field == nil {
		return ""
	}
	v, _ := field.GetValue().(string)
	if err := validate(field.GetKey(), v); err != nil {
		return styleBad.Render(markFail + " " + err.Error())
	}
	return styleOK.Render(markOK + " ok")
}
