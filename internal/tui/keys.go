package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the wizard answers to; each screen shows the ones it uses.
type keyMap struct {
	Up, Down, PageUp, PageDown key.Binding
	Continue, Back, Quit       key.Binding
	Interrupt                  key.Binding
	Apply, View, Adopt         key.Binding
	ChooseKey, Reveal, Snippet key.Binding
	Edit, Retry, Yes, No       key.Binding
}

// keys are the bindings, with the help text the footer shows.
var keys = keyMap{
	Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	PageUp:    key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "page up")),
	PageDown:  key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn", "page down")),
	Continue:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
	Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop")),
	Apply:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "apply")),
	View:      key.NewBinding(key.WithKeys("v", "enter"), key.WithHelp("v/enter", "view document")),
	Adopt:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "adopt")),
	ChooseKey: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "choose key to delete")),
	Reveal:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "show/hide secret")),
	Snippet:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "snippet for another server")),
	Edit:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "change profile/region")),
	Retry:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
	Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
	No:        key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
}

// with returns a copy of b showing other help text, for keys whose meaning depends on the screen.
func with(b key.Binding, keyText, desc string) key.Binding {
	c := b
	c.SetHelp(keyText, desc)
	return c
}
