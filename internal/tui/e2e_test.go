package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

// e2eChoices are unique names on a fresh bucket, with the emulator as the endpoint.
func e2eChoices(t *testing.T, env testenv.Env) settings.Choices {
	return settings.Choices{
		EndpointURL: env.Endpoint, Bucket: env.Bucket(t), KeyPrefix: "uploads/",
		UserName: testenv.Unique("tui-user-"), RoleName: testenv.Unique("tui-role-"),
		UserPolicyName: testenv.Unique("tui-up-"), RolePolicyName: testenv.Unique("tui-rp-"),
	}
}

// e2eConfig is the configuration the command line would resolve in the isolated home.
func e2eConfig(c settings.Choices) engine.Config {
	return engine.Config{Choices: c, Store: settings.Store{Path: os.Getenv("IAMWIZARD_SETTINGS")}, PropagationTimeout: 90 * time.Second}
}

// waitText waits until the program has drawn text.
func waitText(t *testing.T, tm *teatest.TestModel, text string, d time.Duration) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(d), teatest.WithCheckInterval(50*time.Millisecond))
}

// assertSetupExists checks out of band, as the admin, that the wizard created the entities.
func assertSetupExists(t *testing.T, env testenv.Env, c settings.Choices) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.IAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(c.UserName)}); err != nil {
		t.Errorf("user %s: %v", c.UserName, err)
	}
	if _, err := env.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(c.RoleName)}); err != nil {
		t.Errorf("role %s: %v", c.RoleName, err)
	}
	keys, err := env.IAM().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(c.UserName)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Errorf("access keys of %s: %v %v", c.UserName, keys, err)
	}
}

// TestWizardWholeRunAgainstEmulator drives the full-screen wizard from the welcome
// screen to the summary with key presses, then checks the setup exists.
func TestWizardWholeRunAgainstEmulator(t *testing.T) {
	env := testenv.Emulator(t)
	env.Isolate(t)
	c := e2eChoices(t, env)
	m := New(context.Background(), e2eConfig(settings.Choices{EndpointURL: env.Endpoint}))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))

	waitText(t, tm, "choose the setup", 5*time.Second)
	tm.Send(keyMsg("enter"))
	waitText(t, tm, "Where the application writes", 5*time.Second)
	// Every answer typed, in the order of the form; the defaults are cleared first.
	answers := []string{c.Bucket, c.KeyPrefix, c.UserName, c.RoleName, c.UserPolicyName, c.RolePolicyName}
	for _, a := range answers {
		tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU}) // clear the prefilled default
		tm.Type(a)
		time.Sleep(50 * time.Millisecond)
		tm.Send(keyMsg("enter"))
		time.Sleep(100 * time.Millisecond)
	}
	for range 6 { // session, profiles, files: keep the defaults
		tm.Send(keyMsg("enter"))
		time.Sleep(100 * time.Millisecond)
	}
	waitText(t, tm, "steps that differ", 30*time.Second)
	tm.Send(keyMsg("y"))
	waitText(t, tm, "enter the access key", 3*time.Minute)
	tm.Send(keyMsg("enter"))
	waitText(t, tm, "(hidden)", 5*time.Second)
	tm.Send(keyMsg("enter"))
	waitText(t, tm, "All checks passed", 3*time.Minute)
	tm.Send(keyMsg("enter"))
	waitText(t, tm, "verify --no-write", 5*time.Second)
	tm.Send(keyMsg("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
	if err := final.Err(); err != nil {
		t.Fatalf("wizard ended with %v", err)
	}
	assertSetupExists(t, env, c)

	// The choices are remembered: a second run starts from them and finds all in sync.
	m2 := New(context.Background(), e2eConfig(rememberedChoices(t)))
	tm2 := teatest.NewTestModel(t, m2, teatest.WithInitialTermSize(80, 24))
	waitText(t, tm2, "account 000000000000", 30*time.Second) // the preflight ran on the remembered bucket
	tm2.Send(keyMsg("enter"))
	waitText(t, tm2, "Where the application writes", 5*time.Second)
	for range 12 {
		tm2.Send(keyMsg("enter"))
		time.Sleep(100 * time.Millisecond)
	}
	waitText(t, tm2, "Everything is in sync", 30*time.Second)
	tm2.Send(keyMsg("q"))
	tm2.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// rememberedChoices reads what the first run stored, as the command line would.
func rememberedChoices(t *testing.T) settings.Choices {
	s, err := settings.Store{Path: os.Getenv("IAMWIZARD_SETTINGS")}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s.Choices
}

// TestAccessibleWholeRunFromOneReader answers every prompt from one reader holding
// the whole script at once: answers for later questions must not be lost.
func TestAccessibleWholeRunFromOneReader(t *testing.T) {
	env := testenv.Emulator(t)
	env.Isolate(t)
	c := e2eChoices(t, env)
	script := strings.Join([]string{
		"", "", // admin profile and region: defaults
		c.Bucket, c.KeyPrefix, c.UserName, c.RoleName, c.UserPolicyName, c.RolePolicyName,
		"", "", "", "", "", "", // session, profiles, files, app config: defaults
		"y", // apply
	}, "\n") + "\n"
	var out bytes.Buffer
	err := RunAccessible(context.Background(), e2eConfig(settings.Choices{EndpointURL: env.Endpoint}), strings.NewReader(script), &out, false)
	if err != nil {
		t.Fatalf("accessible run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"to create", "Apply these changes? [y/N]", "calling iam:CreateUser", "All checks passed", "Summary:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	assertSetupExists(t, env, c)
	secret, err := readSecret(engineFiles(t, c))
	if err != nil || secret == "" {
		t.Fatalf("no secret stored: %v", err)
	}
	if strings.Contains(out.String(), secret) {
		t.Fatal("the secret appeared in accessible output without a terminal")
	}
}

// engineFiles are where the run stored the key (the isolated home's defaults).
func engineFiles(t *testing.T, c settings.Choices) appfiles.Files {
	t.Helper()
	c = engine.WithDefaults(c)
	return appfiles.Files{CredentialsFile: c.CredentialsFile, AppProfile: c.AppProfile}
}

// TestAccessibleEndOfInputChangesNothing stops the answers after the bucket: the run
// must end with a clear error, accept no defaults, and write nothing.
func TestAccessibleEndOfInputChangesNothing(t *testing.T) {
	env := testenv.Emulator(t)
	home := env.Isolate(t)
	c := e2eChoices(t, env)
	script := "\n\n" + c.Bucket + "\nuploads/\n" + c.UserName + "\n"
	var out bytes.Buffer
	err := RunAccessible(context.Background(), e2eConfig(settings.Choices{EndpointURL: env.Endpoint}), strings.NewReader(script), &out, false)
	if err == nil || !strings.Contains(err.Error(), "input ended before IAM role name was answered") {
		t.Fatalf("err = %v, want the end of input named\n%s", err, out.String())
	}
	for _, p := range []string{os.Getenv("IAMWIZARD_SETTINGS"), home + "/.aws/credentials", home + "/.aws/config"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was written (%v)", p, err)
		}
	}
	_, err = env.IAM().GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(c.UserName)})
	if !awsx.IsNotFound(err) {
		t.Errorf("user %s exists or cannot be checked: %v", c.UserName, err)
	}
}
