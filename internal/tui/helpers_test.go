package tui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// fakeSecret is the secret in testdata/fake-credentials; it must never reach a golden file.
const fakeSecret = "FAKE-SECRET-NOT-A-REAL-KEY-0000000000000"

func TestMain(m *testing.M) {
	// A fixed colour profile makes views and golden files the same on every machine.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// fixedNow is the clock of model tests, so elapsed times are stable.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testModel is a wizard at 80x24 with a fixed clock and no engine.
func testModel(t *testing.T, c settings.Choices) *Model {
	t.Helper()
	t.Setenv("NO_COLOR", "")
	m := New(context.Background(), engine.Config{Choices: c, Store: settings.Store{Path: t.TempDir() + "/settings.json"}})
	m.now = func() time.Time { return fixedNow }
	m.identify = nil // no AWS in model tests; the end-to-end test keeps it
	m.cur = newWelcome(m)
	return m
}

// send delivers messages to the model as the program would, returning the last command.
func send(m *Model, msgs ...tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	for _, msg := range msgs {
		_, cmd = m.Update(msg)
	}
	return cmd
}

// keyMsg is a key press: a rune string, or a named key ("enter", "esc", "ctrl+c", "down").
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// assertFits fails when a view is not exactly height lines of at most width cells.
func assertFits(t *testing.T, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Errorf("view has %d lines, want %d:\n%s", len(lines), height, view)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d cells wide, over %d: %q", i+1, w, width, l)
		}
	}
}

// samplePlan has a step in every state, with details, a diff and a document.
func samplePlan() plan.Plan {
	s := setup.Setup{Partition: "aws", Account: "123456789012", Bucket: "example-bucket", KeyPrefix: "uploads/",
		UserName: "app-user", RoleName: "app-role", UserPolicyName: "assume-role-policy", RolePolicyName: "allow-put-s3-object",
		MaxSessionDuration: 3600}
	return plan.Plan{Setup: s, Steps: []plan.Step{
		{ID: plan.StepUser, Title: "IAM user app-user", State: plan.InSync},
		{ID: plan.StepUserPolicy, Title: "managed policy assume-role-policy (sts:AssumeRole on the role only)", State: plan.Update,
			Reason: "the document differs", Operations: []string{"iam:CreatePolicyVersion"},
			Diff:     "  {\n-   \"Resource\": \"arn:aws:iam::123456789012:role/old-role\"\n+   \"Resource\": \"arn:aws:iam::123456789012:role/app-role\"\n  }",
			Document: "{\n  \"Version\": \"2012-10-17\"\n}"},
		{ID: plan.StepRole, Title: "IAM role app-role (trusts only the user)", State: plan.Create, Reason: "does not exist",
			Operations: []string{"iam:CreateRole"}, Document: "{\n  \"Version\": \"2012-10-17\"\n}"},
		{ID: plan.StepAccessKey, Title: "access key of app-user, stored in the credentials file", State: plan.InSync},
	}}
}

// samplePreflight is a fake admin identity.
func samplePreflight() *engine.Preflight {
	return &engine.Preflight{AdminARN: "arn:aws:iam::123456789012:user/admin", Account: "123456789012", Partition: "aws", Region: "eu-west-3"}
}

// flat joins a view's words with single spaces, so assertions ignore where lines wrap.
func flat(view string) string { return strings.Join(strings.Fields(view), " ") }
