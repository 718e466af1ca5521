package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// TestGoldenScreens runs each screen in a real (headless) program at 80x24 and
// compares its final view with testdata/TestGoldenScreens/NAME.golden; refresh them
// with `go test ./internal/tui -run Golden -update`.
func TestGoldenScreens(t *testing.T) {
	cases := []struct {
		name   string
		model  func(t *testing.T) *Model
		msgs   []tea.Msg
		marker string // text the program must have drawn before the view is taken
	}{
		{"welcome", func(t *testing.T) *Model {
			return testModel(t, settings.Choices{EndpointURL: "http://127.0.0.1:8333"})
		}, nil, "choose the setup"},
		{"review", func(t *testing.T) *Model { return reviewModel(t, samplePlan()) }, nil, "plan review"},
		{"document", func(t *testing.T) *Model { return reviewModel(t, samplePlan()) },
			[]tea.Msg{keyMsg("down"), keyMsg("v")}, "What changes"},
		{"apply", func(t *testing.T) *Model { m, _, _ := applyModel(t); return m }, []tea.Msg{
			eventMsg{event.Event{Step: plan.StepUser, Kind: event.Done, Message: "IAM user app-user: in sync"}},
			eventMsg{event.Event{Step: plan.StepUserPolicy, Kind: event.Call, Operation: "iam:CreatePolicyVersion"}},
			eventMsg{event.Event{Step: plan.StepUserPolicy, Kind: event.Done, Message: "done", Elapsed: 800 * time.Millisecond}},
			eventMsg{event.Event{Step: plan.StepRole, Kind: event.Call, Operation: "iam:CreateRole"}},
			eventMsg{event.Event{Step: plan.StepRole, Kind: event.Wait, Waited: 12 * time.Second, Message: "waiting"}},
		}, "propagate (12 s)"},
		{"applied", func(t *testing.T) *Model { m, _, _ := applyModel(t); return m }, []tea.Msg{
			eventMsg{event.Event{Step: plan.StepUser, Kind: event.Done, Message: "IAM user app-user: in sync"}},
			eventMsg{event.Event{Step: plan.StepRole, Kind: event.Fail, Operation: "iam:CreateRole", Message: "iam:CreateRole: AccessDenied", Fix: "give the admin iam:CreateRole"}},
			applyDoneMsg{res: apply.Result{}, err: errString("role: iam:CreateRole: AccessDenied")},
		}, "q quit"},
		{"key", func(t *testing.T) *Model { m, _ := fakeKeyScreen(t); return m }, []tea.Msg{keyMsg("c")}, "On the other server"},
		{"verify", func(t *testing.T) *Model { m := testModel(t, settings.Choices{}); m.goTo(newVerifyScreen(m)); return m }, []tea.Msg{
			verifyDoneMsg{report: verify.Report{Checks: []verify.Check{
				{ID: verify.CheckWhoAmI, OK: true, Message: "profile [application-user] is arn:aws:iam::123456789012:user/app-user"},
				{ID: verify.CheckAssumeRole, OK: false, Message: "profile [application-role] cannot assume the role (AccessDenied)", Fix: "run `iamwizard apply` to repair the trust policy"},
				{ID: verify.CheckUpload, Skipped: true, Message: "skipped: the role was not assumed"},
			}}},
		}, "check(s) failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := teatest.NewTestModel(t, c.model(t), teatest.WithInitialTermSize(80, 24))
			for _, msg := range c.msgs {
				tm.Send(msg)
			}
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(c.marker)) },
				teatest.WithDuration(5*time.Second))
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			view := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model).View()
			if strings.Contains(view, fakeSecret) {
				t.Fatal("a secret reached a view meant for a golden file")
			}
			assertFits(t, view, 80, 24)
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// errString is an error with a fixed text.
type errString string

func (e errString) Error() string { return string(e) }
