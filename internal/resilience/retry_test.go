package resilience_test

import (
	"testing"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

// Throttling and server errors are retried by the SDK's retryer (adaptive mode, with
// awsx.MaxAttempts tries): a whole first run completes with a fifth of all calls
// throttled, and another with a fifth of all calls answered 500.
func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault awsproxy.Fault
	}{
		{"throttled", awsproxy.Throttle(0.2, 7)},
		{"server errors", awsproxy.ServerError(0.2, 11)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.proxy.AddFault(tc.fault)
			out := f.mustApply(t, f.flags()...)
			contains(t, "apply's output", out, "All checks passed")
			injected := f.proxy.Count(func(c awsproxy.Call) bool { return c.Injected == tc.fault.Name })
			if injected < 3 {
				t.Fatalf("only %d calls were answered by %s: the test proves nothing", injected, tc.fault.Name)
			}
			t.Logf("%d of %d calls answered by %s", injected, len(f.proxy.Calls()), tc.fault.Name)
		})
	}
}
