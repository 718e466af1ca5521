package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/verify"
)

func TestWelcomeExplainsAndWaitsForBucket(t *testing.T) {
	m := testModel(t, settings.Choices{})
	if cmd := welcomeInit(m); cmd != nil {
		t.Fatal("with no bucket the welcome screen must not start a preflight")
	}
	v := m.View()
	for _, want := range []string{"role rather than permissions", "checked as soon as you have named the bucket", "enter choose the setup", "e change profile/region"} {
		if !strings.Contains(v, want) {
			t.Errorf("welcome lacks %q:\n%s", want, v)
		}
	}
	assertFits(t, v, 80, 24)
}

func TestWelcomeShowsPreflight(t *testing.T) {
	m := testModel(t, settings.Choices{Bucket: "example-bucket"})
	if welcomeInit(m) == nil {
		t.Fatal("a remembered bucket should start the identity check")
	}
	send(m, preflightMsg{pre: samplePreflight()})
	v := m.View()
	if !strings.Contains(v, "arn:aws:iam::123456789012:user/admin") || !strings.Contains(v, "bucket region eu-west-3") {
		t.Errorf("identity not shown:\n%s", v)
	}
}

func TestWelcomeEditProfileValidates(t *testing.T) {
	m := testModel(t, settings.Choices{})
	send(m, keyMsg("e"))
	w := m.cur.(*welcome)
	if w.edit == nil {
		t.Fatal("e should open the profile/region form")
	}
	send(m, keyMsg("bad[name"))
	if v := m.View(); !strings.Contains(v, "'['") && !strings.Contains(v, "contains") {
		t.Errorf("an invalid profile name is not flagged as typed:\n%s", v)
	}
}

func TestChoicesValidateAsYouType(t *testing.T) {
	m := testModel(t, settings.Choices{})
	send(m, keyMsg("enter"))
	if _, ok := m.cur.(*choices); !ok {
		t.Fatalf("enter should open the choices, got %T", m.cur)
	}
	send(m, keyMsg("Bad_Bucket"))
	v := m.View()
	if !strings.Contains(v, "lowercase") {
		t.Errorf("bucket rule not shown while typing:\n%s", v)
	}
	assertFits(t, v, 80, 24)
	// esc goes back to the welcome screen.
	send(m, keyMsg("esc"))
	if _, ok := m.cur.(*welcome); !ok {
		t.Errorf("esc should go back to welcome, got %T", m.cur)
	}
}

func TestChoicesRefuseCrossFieldConflicts(t *testing.T) {
	m := testModel(t, settings.Choices{})
	c := newChoices(m, nil)
	c.vals.Bucket = "example-bucket"
	c.vals.RoleProfile = c.vals.AppProfile
	if _, err := c.result(m.cfg.Choices); err == nil || !strings.Contains(err.Error(), "must differ") {
		t.Fatalf("two equal profiles must be refused by engine.Validate, got %v", err)
	}
}

// reviewModel is a wizard on the plan review with a plan already made.
func reviewModel(t *testing.T, p plan.Plan) *Model {
	m := testModel(t, settings.Choices{Bucket: "example-bucket"})
	r := newReview(m)
	m.goTo(r)
	send(m, planMsg{pre: samplePreflight(), plan: p})
	return m
}

func TestReviewShowsStatesAndDocuments(t *testing.T) {
	m := reviewModel(t, samplePlan())
	v := m.View()
	for _, want := range []string{"1 to create", "1 to update", "in sync", "update", "y apply", "y applies the 2 steps that differ"} {
		if !strings.Contains(v, want) {
			t.Errorf("review lacks %q:\n%s", want, v)
		}
	}
	assertFits(t, v, 80, 24)
	send(m, keyMsg("down"), keyMsg("v"))
	v = m.View()
	if !strings.Contains(v, "What changes") || !strings.Contains(v, "role/old-role") || !strings.Contains(v, "Document iamwizard writes") {
		t.Errorf("document view lacks the diff or document:\n%s", v)
	}
	send(m, keyMsg("esc"))
	if m.cur.(*review).viewing {
		t.Error("esc should close the document")
	}
}

func TestReviewAdoptNeedsConfirmation(t *testing.T) {
	p := samplePlan()
	p.Steps[0] = plan.Step{ID: plan.StepUser, Title: "IAM user app-user", State: plan.NotManaged,
		Reason: "exists, not managed by iamwizard", Details: []string{"attached: arn:aws:iam::aws:policy/ReadOnlyAccess", "access keys: 1"}}
	m := reviewModel(t, p)
	v := m.View()
	if strings.Contains(v, "y apply") {
		t.Errorf("apply must not be offered with an entity not ours:\n%s", v)
	}
	send(m, keyMsg("y"))
	if _, ok := m.cur.(*review); !ok || m.cfg.Adopt {
		t.Fatal("y must not apply or adopt before the decision")
	}
	send(m, keyMsg("a"))
	if v := m.View(); !strings.Contains(v, "ReadOnlyAccess") || !strings.Contains(v, "Adopt them?") {
		t.Errorf("adopt question lacks the details:\n%s", v)
	}
	send(m, keyMsg("n"))
	if m.cfg.Adopt {
		t.Fatal("n must not adopt")
	}
	send(m, keyMsg("a"))
	if cmd := send(m, keyMsg("y")); cmd == nil || !m.cfg.Adopt {
		t.Fatal("y should set Adopt and plan again")
	}
	if !m.cur.(*review).planning {
		t.Error("adopting should re-plan")
	}
}

func TestReviewChooseKeyToReplace(t *testing.T) {
	p := samplePlan()
	p.Steps[3] = plan.Step{ID: plan.StepAccessKey, Title: "access key of app-user", State: plan.Blocked,
		Reason: "the user already has 2 access keys, IAM's limit",
		Details: []string{
			"AKIAOLDKEYFORTESTS01  Active  created 2024-01-01T00:00:00Z",
			"AKIAOLDKEYFORTESTS02  Inactive  created 2025-01-01T00:00:00Z",
		}}
	m := reviewModel(t, p)
	send(m, keyMsg("d"))
	v := m.View()
	if !strings.Contains(v, "AKIAOLDKEYFORTESTS02  Inactive") || !strings.Contains(v, stopChoice) {
		t.Fatalf("key choice lacks the keys or the stop choice:\n%s", v)
	}
	send(m, keyMsg("down"), keyMsg("enter"))
	if v := m.View(); !strings.Contains(v, "Delete AKIAOLDKEYFORTESTS02?") {
		t.Fatalf("no confirmation before deleting:\n%s", v)
	}
	send(m, keyMsg("y"))
	if m.cfg.ReplaceKey != "AKIAOLDKEYFORTESTS02" {
		t.Fatalf("ReplaceKey = %q", m.cfg.ReplaceKey)
	}
	// Choosing "stop" quits without changing anything.
	m = reviewModel(t, p)
	send(m, keyMsg("d"), keyMsg("down"), keyMsg("down"))
	if cmd := send(m, keyMsg("enter")); cmd == nil || m.Err() != nil || m.cfg.ReplaceKey != "" {
		t.Fatalf("stop should quit cleanly, err %v", m.Err())
	}
}

func TestReviewPlanErrorOffersRetryAndBack(t *testing.T) {
	m := testModel(t, settings.Choices{Bucket: "example-bucket"})
	m.goTo(newReview(m))
	send(m, planMsg{err: errors.New("the bucket example-bucket does not exist; fix: create it first")})
	v := m.View()
	if !strings.Contains(v, "does not exist") || !strings.Contains(v, "r retry") || !strings.Contains(v, "Nothing was written") {
		t.Errorf("plan error view:\n%s", v)
	}
	send(m, keyMsg("esc"))
	if _, ok := m.cur.(*choices); !ok {
		t.Errorf("esc should go back to the choices, got %T", m.cur)
	}
}

// applyModel is a wizard on the apply screen with a cancel func to observe Ctrl-C.
func applyModel(t *testing.T) (*Model, *applyScreen, *bool) {
	m := testModel(t, settings.Choices{Bucket: "example-bucket"})
	a := newApplyScreen(m, samplePlan())
	m.goTo(a)
	m.outc.stage = stageRunning
	a.stream = make(stream, 1)
	cancelled := false
	m.cancel = func() { cancelled = true }
	return m, a, &cancelled
}

func TestApplyShowsStepsOperationsAndWaits(t *testing.T) {
	m, _, _ := applyModel(t)
	send(m,
		eventMsg{event.Event{Step: plan.StepUser, Kind: event.Done, Message: "IAM user app-user: in sync"}},
		eventMsg{event.Event{Step: plan.StepUserPolicy, Kind: event.Start, Message: "start"}},
		eventMsg{event.Event{Step: plan.StepUserPolicy, Kind: event.Call, Operation: "iam:CreatePolicyVersion"}},
		eventMsg{event.Event{Step: plan.StepRole, Kind: event.Call, Operation: "iam:CreateRole"}},
		eventMsg{event.Event{Step: plan.StepRole, Kind: event.Wait, Waited: 12 * time.Second, Message: "waiting"}},
	)
	v := m.View()
	for _, want := range []string{"in sync", "iam:CreatePolicyVersion", "waiting for IAM to propagate (12 s)", "ctrl+c stop", "Ctrl-C stops cleanly"} {
		if !strings.Contains(v, want) {
			t.Errorf("apply view lacks %q:\n%s", want, v)
		}
	}
	send(m, eventMsg{event.Event{Step: plan.StepUserPolicy, Kind: event.Done, Message: "done", Elapsed: 1500 * time.Millisecond}})
	if v := m.View(); !strings.Contains(v, "iam:CreatePolicyVersion 1.5s") {
		t.Errorf("a finished step should show its operation and time:\n%s", v)
	}
	assertFits(t, m.View(), 80, 24)
}

func TestApplyCtrlCStopsBetweenCallsAndSaysRerunResumes(t *testing.T) {
	m, _, cancelled := applyModel(t)
	if cmd := send(m, keyMsg("ctrl+c")); cmd != nil {
		t.Fatal("the first Ctrl-C during apply must not quit: it stops the run")
	}
	if !*cancelled {
		t.Fatal("Ctrl-C should cancel the run's context")
	}
	if v := m.View(); !strings.Contains(v, "Stopping after the current call") {
		t.Errorf("no stopping notice:\n%s", v)
	}
	send(m, applyDoneMsg{err: context.Canceled})
	v := m.View()
	if !strings.Contains(flat(v), "re-running iamwizard continues where it stopped") {
		t.Errorf("no resume notice:\n%s", v)
	}
	var ee *cli.ExitError
	if !errors.As(m.Err(), &ee) || ee.Code != cli.ExitAborted {
		t.Errorf("Err() = %v, want exit %d", m.Err(), cli.ExitAborted)
	}
}

func TestApplyDoneGoesToKey(t *testing.T) {
	m, _, _ := applyModel(t)
	send(m, applyDoneMsg{res: apply.Result{Changed: []string{"user", "role"}}})
	if v := m.View(); !strings.Contains(v, "Applied: user, role") || !strings.Contains(v, "enter the access key") {
		t.Errorf("done view:\n%s", v)
	}
	send(m, keyMsg("enter"))
	if _, ok := m.cur.(*keyScreen); !ok {
		t.Errorf("enter should show the access key, got %T", m.cur)
	}
}

// fakeKeyScreen is the key screen over testdata/fake-credentials.
func fakeKeyScreen(t *testing.T) (*Model, *keyScreen) {
	m := testModel(t, settings.Choices{})
	k := &keyScreen{newKey: true, files: appfiles.Files{CredentialsFile: "testdata/fake-credentials", ConfigFile: "testdata/config",
		AppProfile: "application-user", RoleProfile: "application-role", Region: "eu-west-3"}, setup: samplePlan().Setup}
	k.keyID, _ = k.files.StoredKeyID()
	m.goTo(k)
	return m, k
}

func TestKeySecretRevealedOnceAndCleared(t *testing.T) {
	m, k := fakeKeyScreen(t)
	v := m.View()
	if strings.Contains(v, fakeSecret) || !strings.Contains(v, "(hidden)") || !strings.Contains(v, "AKIAFAKEKEYFORTESTS0") {
		t.Fatalf("the secret must start hidden:\n%s", v)
	}
	send(m, keyMsg("s"))
	if !strings.Contains(m.View(), fakeSecret) {
		t.Fatal("s should reveal the secret")
	}
	send(m, keyMsg("s"))
	if strings.Contains(m.View(), fakeSecret) || k.secret != "" {
		t.Fatal("s again should hide the secret and forget it")
	}
	send(m, keyMsg("s"), keyMsg("c"))
	if !strings.Contains(m.View(), "aws_secret_access_key = "+fakeSecret) {
		t.Fatal("the snippet should carry the secret while it is revealed")
	}
	send(m, keyMsg("enter"))
	if k.secret != "" || strings.Contains(m.View(), fakeSecret) {
		t.Fatal("moving on must clear the secret")
	}
}

func TestVerifyShowsResultsAndFixes(t *testing.T) {
	m := testModel(t, settings.Choices{})
	v := newVerifyScreen(m)
	m.goTo(v)
	v.stream = make(stream, 1)
	send(m, eventMsg{event.Event{Step: verify.CheckWhoAmI, Kind: event.Wait, Waited: 7 * time.Second, Message: "waiting"}})
	if view := m.View(); !strings.Contains(view, "waiting for IAM to propagate (7 s)") {
		t.Errorf("verify wait not shown:\n%s", view)
	}
	send(m, verifyDoneMsg{report: verify.Report{Checks: []verify.Check{
		{ID: verify.CheckWhoAmI, OK: true, Message: "profile [application-user] is arn:aws:iam::123456789012:user/app-user"},
		{ID: verify.CheckUpload, OK: false, Message: "the role may not put the object (AccessDenied)", Fix: "run `iamwizard apply` to repair the role's policy"},
	}}})
	view := m.View()
	if !strings.Contains(view, "fix: run `iamwizard apply`") || !strings.Contains(view, "1 check(s) failed") {
		t.Errorf("verify report:\n%s", view)
	}
	var ee *cli.ExitError
	if !errors.As(m.Err(), &ee) || ee.Code != cli.ExitFailed {
		t.Errorf("a failed check should end with exit 1, got %v", m.Err())
	}
}

func TestEveryScreenAdaptsToResize(t *testing.T) {
	screens := map[string]func() *Model{
		"welcome": func() *Model { return testModel(t, settings.Choices{EndpointURL: "http://127.0.0.1:8333"}) },
		"choices": func() *Model { m := testModel(t, settings.Choices{}); send(m, keyMsg("enter")); return m },
		"review":  func() *Model { return reviewModel(t, samplePlan()) },
		"apply":   func() *Model { m, _, _ := applyModel(t); return m },
		"key":     func() *Model { m, _ := fakeKeyScreen(t); send(m, keyMsg("c")); return m },
	}
	for name, mk := range screens {
		for _, size := range [][2]int{{80, 24}, {60, 20}, {120, 40}, {80, 24}} {
			m := mk()
			send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			t.Run(name, func(t *testing.T) { assertFits(t, m.View(), size[0], size[1]) })
		}
	}
}

func TestNoTerminalPointsToApplyAndAccessible(t *testing.T) {
	t.Setenv("IAMWIZARD_SETTINGS", t.TempDir()+"/settings.json")
	t.Setenv("ACCESSIBLE", "")
	var out, errOut strings.Builder
	stdio := cli.IO{In: strings.NewReader(""), Out: &out, Err: &errOut, IsTerminal: false}
	for _, args := range [][]string{nil, {"wizard"}} {
		errOut.Reset()
		code := cli.Run(context.Background(), cli.NewRoot(stdio, Command(stdio)), args, stdio)
		if code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, cli.ExitUsage)
		}
		if !strings.Contains(errOut.String(), "iamwizard apply --yes") || !strings.Contains(errOut.String(), "--accessible") {
			t.Errorf("%v: message %q", args, errOut.String())
		}
	}
}

func TestWelcomeShowsTheIdentityAndTheBucketFieldOffersVisibleBuckets(t *testing.T) {
	m := testModel(t, settings.Choices{})
	send(m, identityMsg{id: &engine.Identity{AdminARN: "arn:aws:iam::123456789012:user/admin", Account: "123456789012",
		CanList: true, Buckets: []string{"alpha-bucket", "beta-bucket"}}})
	view := m.View()
	for _, want := range []string{"arn:aws:iam::123456789012:user/admin", "2 bucket(s) visible to pick from"} {
		if !strings.Contains(view, want) {
			t.Fatalf("welcome does not show %q:\n%s", want, view)
		}
	}
	send(m, keyMsg("enter"))
	c, ok := m.cur.(*choices)
	if !ok {
		t.Fatalf("enter led to %T", m.cur)
	}
	if view := c.view(m); !strings.Contains(view, "ctrl+e completes one of the 2 bucket(s)") {
		t.Fatalf("the bucket field does not offer the visible buckets:\n%s", view)
	}
	send(m, keyMsg("b"), tea.KeyMsg{Type: tea.KeyCtrlE})
	if c.vals.Bucket != "beta-bucket" {
		t.Fatalf("ctrl+e after 'b' completed to %q, want beta-bucket", c.vals.Bucket)
	}

	// An admin who may not list buckets types the name.
	m = testModel(t, settings.Choices{})
	send(m, identityMsg{id: &engine.Identity{AdminARN: "arn:aws:iam::123456789012:user/admin", Account: "123456789012"}})
	if view := m.View(); !strings.Contains(view, "may not list buckets") {
		t.Fatalf("welcome without ListBuckets:\n%s", view)
	}
}
