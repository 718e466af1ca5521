package awsx

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock advances only when slept on, so waits are checked without a stopwatch.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

var errNotYet = errors.New("not visible yet")

func TestWaitForStopsSoonAfterTheChangeIsVisible(t *testing.T) {
	for _, visibleAfter := range []time.Duration{0, 3 * time.Second, 9 * time.Second, 40 * time.Second} {
		clock := &fakeClock{now: time.Unix(0, 0)}
		start := clock.now
		var callsAfterVisible, waits int
		err := WaitFor(context.Background(), clock, DefaultBackoff, time.Minute, func(context.Context) error {
			if clock.now.Sub(start) >= visibleAfter {
				callsAfterVisible++
				return nil
			}
			return errNotYet
		}, func(err error) bool { return errors.Is(err, errNotYet) }, func(time.Duration, error) { waits++ })
		if err != nil {
			t.Fatalf("visible after %s: %v", visibleAfter, err)
		}
		// The first call after it became visible succeeds; the capped backoff means the
		// overshoot past visibility is at most one wait of DefaultBackoff.Max.
		if over := clock.now.Sub(start) - visibleAfter; over > DefaultBackoff.Max {
			t.Errorf("visible after %s: returned %s later", visibleAfter, over)
		}
		if visibleAfter > 0 && waits == 0 {
			t.Errorf("visible after %s: the wait was not reported", visibleAfter)
		}
	}
}

func TestWaitForGivesUpAfterTheTimeoutWithTheLastError(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	err := WaitFor(context.Background(), clock, DefaultBackoff, 10*time.Second, func(context.Context) error { return errNotYet },
		func(error) bool { return true }, nil)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, errNotYet) {
		t.Fatalf("err = %v, want a TimeoutError wrapping the last error", err)
	}
	if clock.now.Sub(time.Unix(0, 0)) > 10*time.Second {
		t.Fatalf("waited %s, past the timeout", clock.now.Sub(time.Unix(0, 0)))
	}
}

func TestWaitForDoesNotRetryOtherErrors(t *testing.T) {
	calls := 0
	other := errors.New("access denied")
	err := WaitFor(context.Background(), &fakeClock{}, DefaultBackoff, time.Minute, func(context.Context) error { calls++; return other },
		func(err error) bool { return errors.Is(err, errNotYet) }, nil)
	if !errors.Is(err, other) || calls != 1 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}
