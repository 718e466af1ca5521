package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// hiddenSecret stands in for the secret on screen.
const hiddenSecret = "••••••••••••••••  (hidden)"

// keyScreen says where the access key is stored, hides the secret, and reveals it
// once on an explicit key press by reading it from the credentials file at that
// moment. The secret lives in the model only while it is shown.
type keyScreen struct {
	files   appfiles.Files
	setup   setup.Setup
	keyID   string
	newKey  bool
	secret  string // non-empty only while revealed
	snippet bool
	err     error
}

// newKeyScreen reads the stored key id (not a secret) for display.
func newKeyScreen(m *Model, newKeyID string) *keyScreen {
	k := &keyScreen{newKey: newKeyID != ""}
	if m.eng != nil {
		k.files, k.setup = m.eng.Files(), m.eng.Setup()
		k.keyID, k.err = k.files.StoredKeyID()
	}
	return k
}

func (k *keyScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, keys.Reveal) && k.keyID != "":
		if k.secret != "" {
			k.secret = ""
			return nil
		}
		k.secret, k.err = readSecret(k.files)
	case key.Matches(km, keys.Snippet) && k.keyID != "":
		k.snippet = !k.snippet
	case key.Matches(km, keys.Continue):
		k.secret = "" // moving on clears it from the model and so from the screen
		v := newVerifyScreen(m)
		m.goTo(v)
		return v.start(m)
	case key.Matches(km, keys.Quit):
		k.secret = ""
		return m.quit()
	default:
		m.scroll.update(km, k.body(m), m.height)
	}
	return nil
}

// readSecret reads the app profile's secret from the credentials file, now.
func readSecret(f appfiles.Files) (string, error) {
	sections, err := creds.Read(f.CredentialsFile)
	if err != nil {
		return "", err
	}
	s := sections[f.AppProfile]["aws_secret_access_key"]
	if s == "" {
		return "", fmt.Errorf("no secret in profile [%s] of %s", f.AppProfile, f.CredentialsFile)
	}
	return s, nil
}

func (k *keyScreen) view(m *Model) string {
	help := []key.Binding{}
	if k.keyID != "" {
		reveal := "show secret"
		if k.secret != "" {
			reveal = "hide secret"
		}
		help = append(help, with(keys.Reveal, "s", reveal), with(keys.Snippet, "c", "snippet for another server"))
	}
	help = append(help, with(keys.Continue, "enter", "run the checks"), keys.Quit)
	return frame("access key", k.body(m), help, m.width, m.height, m.scroll.offset)
}

// body says where the key is, with the secret hidden unless revealed.
func (k *keyScreen) body(m *Model) string {
	var b strings.Builder
	if k.keyID == "" {
		b.WriteString(wrap(fmt.Sprintf("No access key is stored in profile [%s] of %s.", k.files.AppProfile, k.files.CredentialsFile), m.width, 0) + "\n")
		if k.err != nil {
			b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(k.err)), m.width, 0) + "\n")
		}
		return b.String()
	}
	b.WriteString(wrap("The application user's access key is stored on this server:", m.width, 0) + "\n\n")
	b.WriteString(wrap("file     "+k.files.CredentialsFile, m.width, 2) + "\n")
	b.WriteString(wrap("profile  ["+k.files.AppProfile+"]", m.width, 2) + "\n")
	id := k.keyID
	if k.newKey {
		id += styleDim.Render("  (new in this run)")
	}
	b.WriteString(wrap("key id   "+id, m.width, 2) + "\n")
	secret := styleDim.Render(hiddenSecret)
	if k.secret != "" {
		secret = styleWarn.Render(k.secret)
	}
	b.WriteString(wrap("secret   "+secret, m.width, 2) + "\n")
	if k.err != nil {
		b.WriteString(wrap(styleBad.Render(markFail+" "+errorText(k.err)), m.width, 0) + "\n")
	}
	b.WriteString("\n" + wrap("Nobody needs to copy the secret on this server: the role profile ["+k.files.RoleProfile+"] uses it by itself. Reveal it (s) only to set up another server; it is shown on this terminal only and cleared when you move on.", m.width, 0) + "\n")
	if k.snippet {
		b.WriteString("\n" + styleHeading.Render("On the other server:") + "\n")
		for _, l := range k.snippetLines() {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// snippetLines are the two files' sections as iamwizard writes them here, ready to
// paste on another server; the secret appears only while revealed.
func (k *keyScreen) snippetLines() []string {
	secret := "<press s to show the secret>"
	if k.secret != "" {
		secret = k.secret
	}
	lines := []string{"# " + k.files.CredentialsFile}
	lines = append(lines, iniLines(k.files.CredentialsSection(k.keyID, secret))...)
	lines = append(lines, "# "+k.files.ConfigFile)
	for _, s := range k.files.ConfigSections(k.setup) {
		lines = append(lines, iniLines(s)...)
	}
	return lines
}

// iniLines renders one section the way the shared files hold it.
func iniLines(s creds.Section) []string {
	out := []string{"[" + s.Name + "]"}
	for _, kv := range s.Keys {
		if len(kv.Nested) == 0 {
			out = append(out, kv.Key+" = "+kv.Value)
			continue
		}
		out = append(out, kv.Key+" =")
		for _, n := range kv.Nested {
			out = append(out, "  "+n.Key+" = "+n.Value)
		}
	}
	return out
}
