// Package event is the vocabulary of progress shared by the engine and its views:
// apply and verify emit events, the plain commands print them and the TUI draws them.
package event

import (
	"sync"
	"time"
)

// Kind says what happened to a step.
type Kind string

// The kinds of event, in the order a step usually goes through them.
const (
	Start Kind = "start" // a step or check began
	Call  Kind = "call"  // an AWS operation is being called
	Wait  Kind = "wait"  // waiting for IAM to propagate a change
	Done  Kind = "done"  // finished successfully (or was already in sync)
	Skip  Kind = "skip"  // deliberately not done, with the reason
	Warn  Kind = "warn"  // done, but something deserves attention
	Fail  Kind = "fail"  // failed; Fix says what to do
)

// Event is one thing that happened while applying or verifying.
type Event struct {
	Step      string        `json:"step"`                // stable id: "user", "role", "verify.assume-role", ...
	Kind      Kind          `json:"kind"`                //
	Operation string        `json:"operation,omitempty"` // the AWS operation, "iam:CreateUser"
	Message   string        `json:"message"`             // one line for a person
	Fix       string        `json:"fix,omitempty"`       // for Fail and Warn: what to do
	Waited    time.Duration `json:"waited_ns,omitempty"` // for Wait: how long so far
	Elapsed   time.Duration `json:"elapsed_ns,omitempty"`
}

// Sink receives events; it must be safe to call from several goroutines.
type Sink func(Event)

// Discard is a Sink that drops every event.
func Discard(Event) {}

// Recorder is a Sink that keeps every event, for tests and reports.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Sink returns the recorder as a Sink.
func (r *Recorder) Sink() Sink {
	return func(e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	}
}

// Events returns a copy of what was recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Serialize returns a Sink that delivers events to s one at a time, so views need not lock.
func Serialize(s Sink) Sink {
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		s(e)
	}
}
