package resilience_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

// childEnv makes the test binary act as the iamwizard command (see TestMain).
const childEnv = "IAMWIZARD_RESILIENCE_CHILD"

// TestMain runs the tests, or, in a subprocess started by command, the iamwizard
// command line itself, exactly as cmd/iamwizard's main runs it (the interactive
// wizard aside). Re-running the test binary gives the subprocess tests a real,
// killable process without building cmd/iamwizard, which costs a cold CI machine
// minutes.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		stdio := cli.StdIO()
		code := cli.Run(ctx, cli.NewRoot(stdio, nil), os.Args[1:], stdio)
		stop()
		os.Exit(code)
	}
	code := m.Run()
	removeSharedBucket()
	os.Exit(code)
}

// One bucket serves every test of the package: each bucket costs the emulator a
// volume of its own, and it has few. Tests differ by user, role and policy names.
var (
	bucketOnce sync.Once
	bucketName string
	bucketEnv  testenv.Env
)

func sharedBucket(t *testing.T, env testenv.Env) string {
	t.Helper()
	var err error
	bucketOnce.Do(func() {
		// Not env.Bucket: that one is removed when the first test to ask ends.
		name := strings.ToLower(testenv.Unique("iamwizard-test-rs-"))
		if _, err = env.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err == nil {
			bucketName, bucketEnv = name, env
		}
	})
	if bucketName == "" {
		t.Fatalf("creating the shared bucket: %v", err)
	}
	return bucketName
}

// removeSharedBucket empties and deletes the package's bucket, giving its volume back.
func removeSharedBucket() {
	if bucketName == "" {
		return
	}
	ctx := context.Background()
	client := bucketEnv.S3()
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucketName})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucketName, Key: o.Key})
		}
	}
	_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucketName})
}

// secretLog keeps every secret the proxy saw go by (secret access keys from
// CreateAccessKey, session tokens and secrets from AssumeRole), to search outputs.
type secretLog struct {
	mu      sync.Mutex
	secrets map[string]string // value -> what it is
}

// record is an awsproxy response hook.
func (s *secretLog) record(c awsproxy.Call, body []byte) {
	for name, values := range xmlElements(body, "SecretAccessKey", "SessionToken") {
		for _, v := range values {
			s.add(v, c.Operation+" "+name)
		}
	}
}

func (s *secretLog) add(value, what string) {
	if len(value) < 8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[value] = what
}

// all returns value -> description.
func (s *secretLog) all() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.secrets))
	for k, v := range s.secrets {
		out[k] = v
	}
	return out
}

// count returns how many secrets of the kind (e.g. "SessionToken") were seen.
func (s *secretLog) count(kind string) int {
	n := 0
	for _, what := range s.all() {
		if strings.HasSuffix(what, kind) {
			n++
		}
	}
	return n
}

// redact replaces every known secret in text, so test logs never hold one.
func (s *secretLog) redact(text string) string {
	for v := range s.all() {
		text = strings.ReplaceAll(text, v, "[REDACTED]")
	}
	return text
}

// find reports where any known secret occurs in text, naming the secret's kind
// but never its value.
func (s *secretLog) find(where, text string) []string {
	var found []string
	for v, what := range s.all() {
		if strings.Contains(text, v) {
			found = append(found, fmt.Sprintf("%s holds a %s", where, what))
		}
	}
	return found
}

// xmlElements returns the character data of every element with one of names.
func xmlElements(body []byte, names ...string) map[string][]string {
	out := map[string][]string{}
	d := xml.NewDecoder(bytes.NewReader(body))
	var current string
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		switch el := tok.(type) {
		case xml.StartElement:
			current = ""
			for _, n := range names {
				if el.Name.Local == n {
					current = n
				}
			}
		case xml.CharData:
			if current != "" {
				out[current] = append(out[current], strings.TrimSpace(string(el)))
			}
		case xml.EndElement:
			current = ""
		}
	}
}

// fixture is one isolated setup on the shared emulator, reached through a proxy
// that records every call and every secret in the answers.
type fixture struct {
	env     testenv.Env
	home    string
	proxy   *awsproxy.Proxy
	secrets *secretLog
	bucket  string
	user    string
	role    string
	upol    string
	rpol    string

	mu      sync.Mutex
	outputs []output // everything the commands printed, to search for secrets
}

type output struct{ where, text string }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Emulator(t)
	f := &fixture{env: env, home: env.Isolate(t), bucket: sharedBucket(t, env), secrets: &secretLog{},
		user: testenv.Unique("rs-user-"), role: testenv.Unique("rs-role-"),
		upol: testenv.Unique("rs-assume-"), rpol: testenv.Unique("rs-put-")}
	f.secrets.add(env.Secret, "admin secret")
	p, err := awsproxy.Start(env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	p.OnResponse(f.secrets.record)
	p.RewriteResponse(newKeyDates(time.Now).rewrite)
	f.proxy = p
	t.Cleanup(func() { f.assertNoSecretLeaked(t) })
	f.removeAtEnd(t, f.user, f.role, f.upol, f.rpol)
	return f
}

// removeAtEnd deletes, when the test ends, the user, role and policies of a setup
// (best effort, straight at the emulator): the emulator slows down with every IAM
// entity it holds, and the whole test command shares one.
func (f *fixture) removeAtEnd(t *testing.T, user, role, upol, rpol string) {
	t.Cleanup(func() {
		ctx := context.Background()
		admin := f.env.IAM()
		arn := func(p string) *string { s := "arn:aws:iam::000000000000:policy/" + p; return &s }
		if keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: &user}); err == nil {
			for _, k := range keys.AccessKeyMetadata {
				_, _ = admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &user, AccessKeyId: k.AccessKeyId})
			}
		}
		for _, p := range []string{upol, rpol} {
			_, _ = admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &user, PolicyArn: arn(p)})
			_, _ = admin.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &role, PolicyArn: arn(p)})
		}
		_, _ = admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &role})
		_, _ = admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: &user})
		for _, p := range []string{upol, rpol} {
			_, _ = admin.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn(p)})
		}
	})
}

// flags are the choices of a first run.
func (f *fixture) flags() []string {
	return []string{"--endpoint-url", f.proxy.URL(), "--bucket", f.bucket, "--key-prefix", "uploads/",
		"--user", f.user, "--role", f.role, "--user-policy", f.upol, "--role-policy", f.rpol}
}

func (f *fixture) keep(where, text string) {
	f.mu.Lock()
	f.outputs = append(f.outputs, output{where, text})
	f.mu.Unlock()
}

// run runs the command line in process, as main does, and keeps what it printed.
func (f *fixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	stdio := cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	code = cli.Run(context.Background(), cli.NewRoot(stdio, nil), args, stdio)
	name := strings.Join(args[:min(len(args), 1)], " ")
	f.keep(name+" stdout", out.String())
	f.keep(name+" stderr", errb.String())
	return code, out.String(), errb.String()
}

// mustApply runs apply --yes and fails the test unless it exits 0.
func (f *fixture) mustApply(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := f.run(t, append([]string{"apply", "--yes"}, args...)...)
	if code != 0 {
		t.Fatalf("apply exited %d\nstdout:\n%s\nstderr:\n%s", code, f.secrets.redact(out), f.secrets.redact(errs))
	}
	return out
}

// command builds a subprocess running the iamwizard command line in this test's
// isolated environment (HOME, settings and shared files from testenv.Isolate).
func (f *fixture) command(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// runBin runs the binary to completion and returns its exit code and output.
func (f *fixture) runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd, out, errb := f.command(t, args...)
	err := cmd.Run()
	f.keep("subprocess stdout", out.String())
	f.keep("subprocess stderr", errb.String())
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String(), errb.String()
		}
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

func (f *fixture) credentialsFile() string { return filepath.Join(f.home, ".aws", "credentials") }
func (f *fixture) configFile() string      { return filepath.Join(f.home, ".aws", "config") }
func settingsFile() string                 { return os.Getenv("IAMWIZARD_SETTINGS") }

// storedKey is the access key id in the app profile ("" when none).
func (f *fixture) storedKey(t *testing.T, profile string) string {
	t.Helper()
	sections, err := creds.Read(f.credentialsFile())
	if err != nil {
		t.Fatalf("the credentials file does not parse: %v", err)
	}
	return sections[profile]["aws_access_key_id"]
}

// keys lists the user's access key ids as the admin sees them, bypassing the proxy.
func (f *fixture) keys(t *testing.T, user string) []string {
	t.Helper()
	out, err := f.env.IAM().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: &user})
	if err != nil {
		t.Fatalf("ListAccessKeys: %v", err)
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, *k.AccessKeyId)
	}
	return ids
}

// assertNoSecretLeaked searches everything printed and the settings file for any
// secret access key or session token the proxy saw, and the admin secret.
func (f *fixture) assertNoSecretLeaked(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	outs := append([]output(nil), f.outputs...)
	f.mu.Unlock()
	var found []string
	for _, o := range outs {
		found = append(found, f.secrets.find(o.where, o.text)...)
	}
	if b, err := os.ReadFile(settingsFile()); err == nil {
		found = append(found, f.secrets.find("the settings file", string(b))...)
	}
	for _, w := range found {
		t.Errorf("secret leaked: %s", w)
	}
}

// fakeClock is a clock the test controls: Sleep advances it at once, so waits
// take no wall time and their schedule can be checked exactly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// window answers calls that match with respond for d from the first such call,
// in the clock now; after that they are forwarded.
func window(name string, match func(awsproxy.Call, []byte) bool, d time.Duration, now func() time.Time,
	respond func(awsproxy.Call) (int, string, []byte, bool)) awsproxy.Fault {
	var start time.Time
	return awsproxy.Fault{Name: name, Respond: respond, Match: func(c awsproxy.Call, body []byte) bool {
		if !match(c, body) {
			return false
		}
		t := now()
		if start.IsZero() {
			start = t
		}
		return t.Before(start.Add(d))
	}}
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q", what, w)
		}
	}
}

// keyDates gives ListAccessKeys answers the CreateDate AWS always sends and the
// emulator leaves out: the time the proxy passed on the key's CreateAccessKey answer,
// or, for a key it never saw created, when it first listed it. Dates the upstream
// sends are kept.
type keyDates struct {
	now     func() time.Time
	mu      sync.Mutex
	created map[string]time.Time
}

func newKeyDates(now func() time.Time) *keyDates {
	return &keyDates{now: now, created: map[string]time.Time{}}
}

var accessKeyIDElement = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)

func (k *keyDates) rewrite(c awsproxy.Call, body []byte) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case c.Operation == "CreateAccessKey":
		for _, id := range xmlElements(body, "AccessKeyId")["AccessKeyId"] {
			k.created[id] = k.now().UTC()
		}
	case c.Operation == "ListAccessKeys" && !bytes.Contains(body, []byte("<CreateDate>")):
		return accessKeyIDElement.ReplaceAllFunc(body, func(m []byte) []byte {
			id := string(accessKeyIDElement.FindSubmatch(m)[1])
			t, ok := k.created[id]
			if !ok {
				// Created where the proxy could not see the answer (out of band, or a
				// CreateAccessKey whose client died first): it exists by now, and AWS's
				// date would be no later than this.
				t = k.now().UTC()
				k.created[id] = t
			}
			return []byte(string(m) + "<CreateDate>" + t.Format(time.RFC3339) + "</CreateDate>")
		})
	}
	return nil
}
