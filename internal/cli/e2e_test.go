package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

// fixture is one isolated setup on the shared emulator, reached through a recording
// proxy so tests can count the calls the commands make.
type fixture struct {
	env    testenv.Env
	home   string
	proxy  *awsproxy.Proxy
	bucket string
	user   string
	role   string
	upol   string
	rpol   string
	// outputs collects everything the commands printed, to search for secrets.
	outputs []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Emulator(t)
	f := &fixture{env: env, home: env.Isolate(t), bucket: env.Bucket(t),
		user: testenv.Unique("app-user-"), role: testenv.Unique("app-role-"),
		upol: testenv.Unique("assume-"), rpol: testenv.Unique("put-")}
	p, err := awsproxy.Start(env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	f.proxy = p
	t.Cleanup(func() { f.assertNoSecretPrinted(t) })
	return f
}

// firstRunFlags are the choices of the first run; later runs use the remembered ones.
func (f *fixture) firstRunFlags() []string {
	return []string{"--endpoint-url", f.proxy.URL(), "--bucket", f.bucket, "--key-prefix", "uploads/",
		"--user", f.user, "--role", f.role, "--user-policy", f.upol, "--role-policy", f.rpol}
}

func (f *fixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	stdio := cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	code = cli.Run(context.Background(), cli.NewRoot(stdio, nil), args, stdio)
	f.outputs = append(f.outputs, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// emulatorAccount is the account id of the emulator's admin.
const emulatorAccount = "000000000000"

// policyARN is the ARN of a managed policy in the emulator's account.
func policyARN(name string) string { return "arn:aws:iam::" + emulatorAccount + ":policy/" + name }

func (f *fixture) credentialsFile() string { return filepath.Join(f.home, ".aws", "credentials") }
func (f *fixture) configFile() string      { return filepath.Join(f.home, ".aws", "config") }

func (f *fixture) assertNoSecretPrinted(t *testing.T) {
	sections, err := creds.Read(f.credentialsFile())
	if err != nil {
		return
	}
	for _, sec := range sections {
		secret := sec["aws_secret_access_key"]
		if secret == "" {
			continue
		}
		for _, o := range f.outputs {
			if strings.Contains(o, secret) {
				t.Errorf("a secret access key was printed:\n%s", o)
			}
		}
		settings, _ := os.ReadFile(os.Getenv("IAMWIZARD_SETTINGS"))
		if bytes.Contains(settings, []byte(secret)) {
			t.Error("the settings file holds a secret access key")
		}
	}
}

func (f *fixture) apply(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := f.run(t, append([]string{"apply", "--yes"}, args...)...)
	if code != 0 {
		t.Fatalf("apply exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	return out
}

func TestApplyCreatesEverythingAndASecondApplyWritesNothing(t *testing.T) {
	f := newFixture(t)
	out := f.apply(t, f.firstRunFlags()...)
	if !strings.Contains(out, "All checks passed") {
		t.Fatalf("apply did not verify:\n%s", out)
	}
	ctx := context.Background()
	admin := f.env.IAM()
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: &f.user}); err != nil {
		t.Fatalf("user not created: %v", err)
	}
	attached, err := admin.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &f.role})
	if err != nil || len(attached.AttachedPolicies) != 1 || !strings.HasSuffix(aws.ToString(attached.AttachedPolicies[0].PolicyArn), "/"+f.rpol) {
		t.Fatalf("role policies: %+v, %v", attached, err)
	}
	for _, p := range []string{f.credentialsFile(), f.configFile()} {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", p, info.Mode(), err)
		}
	}
	if info, _ := os.Stat(filepath.Dir(f.credentialsFile())); info.Mode().Perm() != 0o700 {
		t.Fatalf("~/.aws is %v, want 0700", info.Mode().Perm())
	}

	// The application's side: only the role profile, loaded as any SDK would.
	cfg, err := awsx.Load(ctx, awsx.Target{Profile: "application-role",
		CredentialsFiles: []string{f.credentialsFile()}, ConfigFiles: []string{f.configFile()}})
	if err != nil {
		t.Fatal(err)
	}
	app := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String("uploads/report.txt"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("the application could not upload through the role: %v", err)
	}
	if _, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String("elsewhere/report.txt"), Body: strings.NewReader("hello")}); !awsx.IsAccessDenied(err) {
		t.Fatalf("the role could write outside the prefix: %v", err)
	}

	// A second run with no flags: the remembered choices, and not one IAM write.
	f.proxy.Reset()
	out = f.apply(t)
	if writes := f.proxy.IAMWrites(); len(writes) != 0 {
		t.Fatalf("the second apply made IAM writes: %+v", writes)
	}
	if !strings.Contains(out, "Nothing to change") || !strings.Contains(out, "All checks passed") {
		t.Fatalf("second apply:\n%s", out)
	}
	if code, out, _ := f.run(t, "plan"); code != 0 {
		t.Fatalf("plan after apply exited %d:\n%s", code, out)
	}
}

func TestOutOfBandChangesAreShownAndRepaired(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	ctx := context.Background()
	admin := f.env.IAM()
	acct := "000000000000"
	rolePolicyARN := policyARN(f.rpol)
	userPolicyARN := policyARN(f.upol)
	widened := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::` + f.bucket + `/*"}]}`
	if _, err := admin.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &rolePolicyARN, PolicyDocument: &widened, SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/someone-else"},"Action":"sts:AssumeRole"}]}`
	if _, err := admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &f.role, PolicyDocument: &trust}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &f.user, PolicyArn: &userPolicyARN}); err != nil {
		t.Fatal(err)
	}

	code, out, _ := f.run(t, "plan")
	if code != 2 {
		t.Fatalf("plan exited %d, want 2 (changes pending):\n%s", code, out)
	}
	for _, want := range []string{`"s3:*"`, "the document differs", "the trust policy differs", "someone-else", "not attached"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not show %q:\n%s", want, out)
		}
	}
	code, out, _ = f.run(t, "verify")
	if code != 1 {
		t.Fatalf("verify of a drifted setup exited %d, want 1:\n%s", code, out)
	}

	f.apply(t)
	if code, out, _ := f.run(t, "plan"); code != 0 {
		t.Fatalf("after repair plan exited %d:\n%s", code, out)
	}
	if code, out, _ := f.run(t, "verify"); code != 0 {
		t.Fatalf("after repair verify exited %d:\n%s", code, out)
	}
}

func TestAnExistingUserTheToolDidNotCreateIsLeftAlone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.env.IAM().CreateUser(ctx, &iam.CreateUserInput{UserName: &f.user}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := f.run(t, append([]string{"apply", "--yes"}, f.firstRunFlags()...)...)
	if code != 1 || !strings.Contains(out, "not managed by iamwizard") || !strings.Contains(errs, "nothing was changed") {
		t.Fatalf("apply on someone else's user exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if writes := f.proxy.IAMWrites(); len(writes) != 0 {
		t.Fatalf("IAM writes without --adopt: %+v", writes)
	}
	if keys, _ := f.env.IAM().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: &f.user}); len(keys.AccessKeyMetadata) != 0 {
		t.Fatal("a key was created for a user the tool does not manage")
	}
	out = f.apply(t, "--adopt")
	if !strings.Contains(out, "All checks passed") {
		t.Fatalf("--adopt did not complete the setup:\n%s", out)
	}
}

func TestVerifyFindsAPermissionBeyondTheSetup(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	ctx := context.Background()
	name := testenv.Unique("extra-read-")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + f.bucket + `/*"}]}`
	created, err := f.env.IAM().CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &name, PolicyDocument: &doc})
	if err != nil {
		t.Fatal(err)
	}
	extraARN := policyARN(name)
	_ = created
	if _, err := f.env.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &f.role, PolicyArn: &extraARN}); err != nil {
		t.Fatal(err)
	}
	code, out, _ := f.run(t, "verify")
	if code != 1 || !strings.Contains(out, "the role can READ objects") || !strings.Contains(out, name) {
		t.Fatalf("verify with an extra read grant exited %d:\n%s", code, out)
	}
}

func TestBadInputIsRefusedBeforeAnyCall(t *testing.T) {
	f := newFixture(t)
	cases := [][]string{
		{"--bucket", "My_Bucket"},
		{"--bucket", "ok-bucket", "--key-prefix", "uploads/*"},
		{"--bucket", "ok-bucket", "--key-prefix", "${aws:username}/"},
		{"--bucket", "ok-bucket", "--user", `evil"},{"Effect":"Allow`},
		{"--bucket", "ok-bucket", "--role", strings.Repeat("r", 65)},
		{"--bucket", "ok-bucket", "--max-session-duration", "100"},
		{"--bucket", "ok-bucket", "--app-profile", "a]b"},
		{"--bucket", "ok-bucket", "--user-policy", "same", "--role-policy", "SAME"},
	}
	for _, c := range cases {
		args := append([]string{"apply", "--yes", "--endpoint-url", f.proxy.URL()}, c...)
		code, out, errs := f.run(t, args...)
		if code == 0 || !strings.Contains(errs, "error:") {
			t.Errorf("%v: exited %d\n%s%s", c, code, out, errs)
		}
	}
	if calls := f.proxy.Calls(); len(calls) != 0 {
		t.Fatalf("bad input reached the endpoint: %+v", calls)
	}
	if _, err := os.Stat(f.credentialsFile()); !os.IsNotExist(err) {
		t.Fatal("bad input wrote the credentials file")
	}
}

func TestApplyWithoutATerminalNeedsYes(t *testing.T) {
	f := newFixture(t)
	code, _, errs := f.run(t, append([]string{"apply"}, f.firstRunFlags()...)...)
	if code != cli.ExitUsage || !strings.Contains(errs, "apply --yes") {
		t.Fatalf("exited %d: %s", code, errs)
	}
	code, _, errs = f.run(t, append([]string{"apply", "--yes", "--show-secret"}, f.firstRunFlags()...)...)
	if code != cli.ExitUsage || !strings.Contains(errs, "only to a terminal") {
		t.Fatalf("--show-secret without a terminal exited %d: %s", code, errs)
	}
	if len(f.proxy.Calls()) != 0 {
		t.Fatal("a refused apply called the endpoint")
	}
}

func TestJSONOutputIsOneDocumentWithStableIDs(t *testing.T) {
	f := newFixture(t)
	code, out, _ := f.run(t, append([]string{"plan", "--output", "json"}, f.firstRunFlags()...)...)
	if code != 2 {
		t.Fatalf("plan exited %d", code)
	}
	var doc struct {
		Pending bool
		Plan    struct{ Steps []struct{ ID, State string } }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if !doc.Pending || len(doc.Plan.Steps) == 0 || doc.Plan.Steps[0].ID != "user" || doc.Plan.Steps[0].State != "create" {
		t.Fatalf("plan JSON: %+v", doc)
	}
	code, out, _ = f.run(t, append([]string{"apply", "--yes", "--output", "json"}, f.firstRunFlags()...)...)
	var applied struct {
		Result struct {
			NewKey string `json:"new_access_key_id"`
		}
		Verify struct{ Checks []struct{ ID string } }
	}
	if code != 0 || json.Unmarshal([]byte(out), &applied) != nil || applied.Result.NewKey == "" || len(applied.Verify.Checks) < 5 {
		t.Fatalf("apply JSON (exit %d):\n%s", code, out)
	}
}
