package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/engine"
)

// screen is one step of the wizard; Model routes messages to the current one.
type screen interface {
	// update handles a message for this screen and may move the wizard on.
	update(m *Model, msg tea.Msg) tea.Cmd
	// view draws the whole screen for the model's size.
	view(m *Model) string
}

// Model is the whole wizard: the shared state (configuration, engine, plan, results)
// and the current screen. It calls AWS only through the engine, in tea.Cmds.
type Model struct {
	ctx    context.Context
	cfg    engine.Config
	now    func() time.Time
	width  int
	height int
	spin   spinner.Model
	scroll scroller
	cur    screen

	eng *engine.Engine
	pre *engine.Preflight
	// identity is who the admin is and which buckets it sees, before a bucket is chosen.
	identity *engine.Identity
	// identify asks the engine for the identity; nil skips it (tests without AWS).
	identify func(context.Context, engine.Config) (*engine.Identity, error)
	res      apply.Result
	outc     outcome
	// cancel stops the run in progress (apply or verify) between AWS calls.
	cancel context.CancelFunc
}

// New returns the wizard for a configuration: the remembered settings and flags,
// which prefill every choice.
func New(ctx context.Context, cfg engine.Config) *Model {
	m := &Model{ctx: ctx, cfg: cfg, now: time.Now, width: 80, height: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.Line)), identify: engine.Identify}
	m.cur = newWelcome(m)
	return m
}

// Init starts the welcome screen's identity check when a bucket is already known.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.spin.Tick, welcomeInit(m))
}

// Update routes a message: size and Ctrl-C are handled for every screen, spinner
// ticks keep running rows alive, everything else goes to the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, m.cur.update(m, msg)
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyMsg:
		if key.Matches(msg, keys.Interrupt) {
			return m, m.interrupt()
		}
	}
	return m, m.cur.update(m, msg)
}

// View draws the current screen.
func (m *Model) View() string { return m.cur.view(m) }

// goTo switches screens and starts the new one at its top.
func (m *Model) goTo(s screen) {
	m.cur = s
	m.scroll = scroller{}
}

// interrupt handles Ctrl-C: during a run it cancels the context, so the engine stops
// between calls and the run's screen says so; a second Ctrl-C, or one outside a run,
// quits at once (nothing is being written then).
func (m *Model) interrupt() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
		if r, ok := m.cur.(interruptible); ok {
			r.stopping()
		}
		return nil
	}
	if m.outc.err == nil && m.outc.stage == stageRunning {
		m.outc.interrupted = true
	}
	m.outc.quit = true
	return tea.Quit
}

// interruptible is a screen that runs the engine and can show that it is stopping.
type interruptible interface{ stopping() }

// runContext returns a context for one engine run, cancelled by Ctrl-C.
func (m *Model) runContext() context.Context {
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	return ctx
}

// runEnded forgets the cancel function of a run that has finished.
func (m *Model) runEnded() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// quit ends the program after the current screen.
func (m *Model) quit() tea.Cmd {
	m.outc.quit = true
	return tea.Quit
}

// Err is how the wizard ended, for the exit code: nil when the setup was verified or
// the administrator left before changing anything.
func (m *Model) Err() error { return m.outc.result() }
