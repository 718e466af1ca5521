package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// The engine runs in tea.Cmds (goroutines); these messages bring its answers back to
// Update, which is the only place the model changes.
type (
	// preflightMsg answers the welcome screen's identity check.
	preflightMsg struct {
		pre *engine.Preflight
		err error
	}
	// planMsg carries a fresh plan and the engine that made it (Apply needs the same one).
	planMsg struct {
		eng  *engine.Engine
		pre  *engine.Preflight
		plan plan.Plan
		err  error
	}
	// eventMsg is one progress event of apply or verify.
	eventMsg struct{ ev event.Event }
	// applyDoneMsg ends an apply run.
	applyDoneMsg struct {
		res apply.Result
		err error
	}
	// verifyDoneMsg ends a verify run.
	verifyDoneMsg struct {
		report verify.Report
		err    error
	}
)

// identityMsg answers the welcome screen's identity check when no bucket is known yet.
type identityMsg struct {
	id  *engine.Identity
	err error
}

// identifyCmd asks who the admin is and which buckets it can see.
func identifyCmd(ctx context.Context, cfg engine.Config, identify func(context.Context, engine.Config) (*engine.Identity, error)) tea.Cmd {
	return func() tea.Msg {
		id, err := identify(ctx, cfg)
		return identityMsg{id: id, err: err}
	}
}

// preflightCmd checks the admin identity and the bucket, without planning.
func preflightCmd(ctx context.Context, cfg engine.Config) tea.Cmd {
	return func() tea.Msg {
		e, err := engine.New(ctx, cfg)
		if err != nil {
			return preflightMsg{err: err}
		}
		pre, err := e.Preflight(ctx)
		return preflightMsg{pre: pre, err: err}
	}
}

// planCmd builds a fresh engine for cfg (Adopt and ReplaceKey are fixed per engine)
// and plans.
func planCmd(ctx context.Context, cfg engine.Config) tea.Cmd {
	return func() tea.Msg {
		e, err := engine.New(ctx, cfg)
		if err != nil {
			return planMsg{err: err}
		}
		pre, err := e.Preflight(ctx)
		if err != nil {
			return planMsg{err: err}
		}
		p, err := e.Plan(ctx)
		return planMsg{eng: e, pre: pre, plan: p, err: err}
	}
}

// stream carries a run's events from the engine's goroutines into the program: the
// engine sends on it, and next is a Cmd that reads one message at a time, so events
// arrive in order and Update never races with the engine.
type stream chan tea.Msg

// next waits for the run's next message.
func (s stream) next() tea.Cmd {
	return func() tea.Msg { return <-s }
}

// sink is an event.Sink that feeds the stream.
func (s stream) sink() event.Sink {
	return event.Serialize(func(ev event.Event) { s <- eventMsg{ev: ev} })
}

// applyCmd starts apply in the background and returns the stream of its events,
// ending with an applyDoneMsg.
func applyCmd(ctx context.Context, e *engine.Engine, p plan.Plan) (stream, tea.Cmd) {
	s := make(stream, 64)
	go func() {
		res, err := e.Apply(ctx, p, s.sink())
		s <- applyDoneMsg{res: res, err: err}
	}()
	return s, s.next()
}

// verifyCmd starts the live checks in the background, ending with a verifyDoneMsg.
func verifyCmd(ctx context.Context, e *engine.Engine) (stream, tea.Cmd) {
	s := make(stream, 64)
	go func() {
		r, err := e.Verify(ctx, s.sink())
		s <- verifyDoneMsg{report: r, err: err}
	}()
	return s, s.next()
}
