package awsx

import (
	"context"
	"time"
)

// Clock lets tests control time in propagation waits.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff is the schedule of waits between tries: it doubles from First up to Max.
// Max is small so that at most one or two tries are made after a change becomes visible.
type Backoff struct {
	First, Max time.Duration
}

// DefaultBackoff suits IAM propagation, which usually takes a few seconds.
var DefaultBackoff = Backoff{First: 500 * time.Millisecond, Max: 2 * time.Second}

// WaitFor calls try until it reports done, it returns an error that is not worth
// retrying, or timeout passes. retryable says whether an error means "not visible yet".
// onWait is told, before each wait, how long it has been waiting and the last error.
// On timeout the last error is returned, so the caller can say what never became true.
func WaitFor(ctx context.Context, clock Clock, b Backoff, timeout time.Duration,
	try func(context.Context) error, retryable func(error) bool,
	onWait func(waited time.Duration, last error)) error {
	start := clock.Now()
	delay := b.First
	for {
		err := try(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		waited := clock.Now().Sub(start)
		if waited+delay > timeout {
			return &TimeoutError{Waited: waited, Last: err}
		}
		if onWait != nil {
			onWait(waited, err)
		}
		if err := clock.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, b.Max)
	}
}

// TimeoutError says that a change never became visible within the propagation timeout.
type TimeoutError struct {
	Waited time.Duration
	Last   error
}

func (e *TimeoutError) Error() string {
	return "still failing after " + e.Waited.Round(time.Second).String() + ": " + e.Last.Error()
}

func (e *TimeoutError) Unwrap() error { return e.Last }
