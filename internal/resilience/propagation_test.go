package resilience_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// maxLate bounds how long after a change became visible its check may still be
// waiting: the backoff must be capped (at awsx.DefaultBackoff.Max, 2 s today), or a
// wait that doubles would sleep on long after IAM caught up. minGap is the least
// time between two tries: a backoff, not a busy loop.
const (
	maxLate = 5 * time.Second
	minGap  = 100 * time.Millisecond
)

// gate is one thing that becomes visible at a known time in the test's clock, and
// the calls that waited for it.
type gate struct {
	name    string
	visible time.Time
	calls   []awsproxy.Call
}

// checkGate asserts the wait for one change: before it was visible the calls were
// spaced by a backoff (never closer than minGap, never further apart than maxLate);
// once visible, the next call passed, at most maxLate later, and at most two calls
// were made after it became visible.
func checkGate(t *testing.T, g gate) {
	t.Helper()
	if len(g.calls) == 0 {
		t.Fatalf("%s: no calls", g.name)
	}
	var rejected int
	var after []awsproxy.Call
	for i, c := range g.calls {
		if c.Time.Before(g.visible) {
			rejected++
			if c.Injected == "" {
				t.Errorf("%s: call %d before it became visible was not answered by the fault", g.name, i)
			}
			if i > 0 {
				gap := c.Time.Sub(g.calls[i-1].Time)
				if gap < minGap || gap > maxLate {
					t.Errorf("%s: %s between calls %d and %d, want a backoff between %s and %s",
						g.name, gap, i-1, i, minGap, maxLate)
				}
			}
			continue
		}
		after = append(after, c)
	}
	if rejected < 3 {
		t.Errorf("%s: only %d calls while it was invisible: the check did not wait", g.name, rejected)
	}
	if len(after) == 0 {
		t.Fatalf("%s: no call after it became visible: the check gave up", g.name)
	}
	if len(after) > 2 {
		t.Errorf("%s: %d calls after it became visible, want at most 2", g.name, len(after))
	}
	first := after[0]
	if first.Status != http.StatusOK {
		t.Errorf("%s: the first call after it became visible got %d (%s)", g.name, first.Status, first.Injected)
	}
	if late := first.Time.Sub(g.visible); late > maxLate {
		t.Errorf("%s: the first call after it became visible came %s later, more than %s", g.name, late, maxLate)
	}
}

// Case 1: a new access key (and the role's session key, and the trust on AssumeRole)
// are invisible for a while, as on AWS. The who-am-I, assume-role and upload checks
// each wait with capped backoff and pass at the first call after the change became
// visible. A clock the test controls drives both the checks and the proxy, so the
// schedule is checked exactly and takes no wall time.
func TestChecksWaitForANewKeyWithCappedBackoff(t *testing.T) {
	f := newFixture(t)
	clock := &fakeClock{now: time.Now()}
	f.proxy.SetClock(clock.Now)
	const keyDelay, trustDelay = 20 * time.Second, 15 * time.Second
	// Any key but the admin's is rejected for keyDelay after the proxy first sees it:
	// the user's new key, and the role's session key.
	f.proxy.AddFault(awsproxy.HideNewKeys([]string{f.env.AccessKey}, keyDelay, clock.Now))
	// AssumeRole is denied for trustDelay after the first try, as while a new trust
	// policy propagates.
	f.proxy.AddFault(window("TrustNotVisible", awsproxy.ByOperation("AssumeRole"), trustDelay, clock.Now,
		awsproxy.RespondError(http.StatusForbidden, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")))

	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{
		Choices: settings.Choices{EndpointURL: f.proxy.URL(), Bucket: f.bucket, KeyPrefix: "uploads/",
			UserName: f.user, RoleName: f.role, UserPolicyName: f.upol, RolePolicyName: f.rpol},
		PropagationTimeout: time.Minute,
		Store:              settings.Store{Path: settingsFile()},
		Clock:              clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rec event.Recorder
	if _, err := e.Apply(ctx, p, rec.Sink()); err != nil {
		t.Fatal(f.secrets.redact(err.Error()))
	}
	report, err := e.Verify(ctx, rec.Sink())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("verify failed: %s", f.secrets.redact(reportText(report)))
	}

	userKey := f.storedKey(t, "application-user")
	calls := f.proxy.Calls()
	pick := func(keep func(awsproxy.Call) bool) []awsproxy.Call {
		return slices.DeleteFunc(slices.Clone(calls), func(c awsproxy.Call) bool { return !keep(c) })
	}
	whoami := pick(func(c awsproxy.Call) bool { return c.AccessKeyID == userKey && c.Operation == "GetCallerIdentity" })
	assume := pick(func(c awsproxy.Call) bool { return c.Operation == "AssumeRole" })
	var sessionKey string
	for _, c := range calls {
		if c.Service == "s3" && c.Operation == "PutObject" && c.AccessKeyID != userKey && c.AccessKeyID != f.env.AccessKey {
			sessionKey = c.AccessKeyID
			break
		}
	}
	upload := pick(func(c awsproxy.Call) bool {
		return c.AccessKeyID == sessionKey && c.Operation == "PutObject"
	})
	if len(whoami) == 0 || len(assume) == 0 || sessionKey == "" {
		t.Fatalf("calls missing: %d who-am-I, %d AssumeRole, session key found: %v", len(whoami), len(assume), sessionKey != "")
	}
	checkGate(t, gate{"who-am-I with the new key", whoami[0].Time.Add(keyDelay), whoami})
	checkGate(t, gate{"AssumeRole while the trust propagates", assume[0].Time.Add(trustDelay), assume})
	checkGate(t, gate{"upload with the new session key", upload[0].Time.Add(keyDelay), upload})

	// The user sees that each check is waiting.
	for _, id := range []string{verify.CheckWhoAmI, verify.CheckAssumeRole, verify.CheckUpload} {
		if !slices.ContainsFunc(rec.Events(), func(ev event.Event) bool {
			return ev.Step == id && ev.Kind == event.Wait && strings.Contains(ev.Message, "waiting for IAM")
		}) {
			t.Errorf("%s: no waiting event was shown", id)
		}
	}
}

func reportText(r verify.Report) string {
	var b strings.Builder
	for _, c := range r.Checks {
		b.WriteString(c.ID + ": " + c.Message + "\n")
	}
	return b.String()
}

// Case 1, as the administrator sees it: apply prints that it is waiting, and when the
// key never becomes visible within --propagation-timeout it says so, with the fix.
func TestAKeyThatNeverAppearsEndsWithAClearMessage(t *testing.T) {
	f := newFixture(t)
	f.proxy.AddFault(awsproxy.HideNewKeys([]string{f.env.AccessKey}, time.Hour, nil))
	code, out, errs := f.run(t, append([]string{"apply", "--yes", "--propagation-timeout", "3s"}, f.flags()...)...)
	if code == 0 {
		t.Fatal("apply passed with a key AWS never accepted")
	}
	text := f.secrets.redact(out + errs)
	contains(t, "apply's output", text,
		"waiting for IAM to propagate the access key",
		"AWS still rejects the stored key of profile [application-user] after",
		"(InvalidClientTokenId)",
		"--propagation-timeout")
	if t.Failed() {
		t.Log(text)
	}
}

// Case 2, end to end: right after CreateUser, IAM calls the new user an invalid
// principal; CreateRole is retried until it is accepted.
func TestCreateRoleWaitsForTheNewUser(t *testing.T) {
	f := newFixture(t)
	const refusals = 3
	f.proxy.AddFault(awsproxy.ErrorFault("InvalidPrincipal", awsproxy.ByOperation("CreateRole"), http.StatusBadRequest,
		"MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/`+f.user+`"`, refusals))
	out := f.mustApply(t, f.flags()...)
	contains(t, "apply's output", out, "waiting for IAM to propagate the user "+f.user, "All checks passed")
	created := f.proxy.Count(func(c awsproxy.Call) bool { return c.Operation == "CreateRole" && c.Status == http.StatusOK })
	refused := f.proxy.Count(func(c awsproxy.Call) bool { return c.Operation == "CreateRole" && c.Injected == "InvalidPrincipal" })
	if refused != refusals || created != 1 {
		t.Fatalf("CreateRole: %d refused, %d created; want %d and 1", refused, created, refusals)
	}
}

// Case 2: a principal that really never appears fails after the timeout with a
// message saying so, and no role is left behind.
func TestAPrincipalThatNeverAppearsFailsClearly(t *testing.T) {
	f := newFixture(t)
	f.proxy.AddFault(awsproxy.ErrorFault("InvalidPrincipal", awsproxy.ByOperation("CreateRole"), http.StatusBadRequest,
		"MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/`+f.user+`"`, 0))
	code, out, errs := f.run(t, append([]string{"apply", "--yes", "--propagation-timeout", "3s"}, f.flags()...)...)
	if code == 0 {
		t.Fatal("apply passed although the role could never be created")
	}
	contains(t, "apply's error", errs, "invalid principal", "really does not exist", "--propagation-timeout")
	contains(t, "apply's output", out, "waiting for IAM to propagate the user")
	if t.Failed() {
		t.Log(f.secrets.redact(out + errs))
	}
	if _, err := f.env.IAM().GetRole(context.Background(), &iam.GetRoleInput{RoleName: &f.role}); !awsx.IsNotFound(err) {
		t.Fatalf("GetRole after the refused creates: %v", err)
	}
}
