package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// Scenario ids, in the order each round runs them.
const (
	scenA      = "a"
	scenFloor  = "b0"
	scenFloorI = "b0in"
	scenB      = "b"
	scenC      = "c"
	scenD      = "d"
)

var scenarioOrder = []string{scenA, scenFloor, scenFloorI, scenB, scenC, scenD}

var scenarioTitles = map[string]string{
	scenA:      "classic setup by hand: 10 `aws` CLI commands",
	scenFloor:  "floor: minimal Go program, the same 10 calls",
	scenFloorI: "the same 10 calls inside the harness (no process start)",
	scenB:      "`iamwizard apply --yes`, fresh setup",
	scenC:      "`iamwizard apply --yes` again, in sync",
	scenD:      "`iamwizard verify`",
}

// creates reports whether a scenario creates a setup (and so needs fresh state).
func creates(id string) bool {
	return id == scenA || id == scenFloor || id == scenFloorI || id == scenB
}

// sample is one timed run of one scenario.
type sample struct {
	Dur         time.Duration
	Counts      map[string]int // "service:Operation" -> calls, as the proxy classified them
	Calls       []awsproxy.Call
	IAMWrites   int
	Failed      int           // calls answered with a status >= 400 (expected denials and "not found" included)
	APITime     time.Duration // time at least one call was in flight
	MaxInFlight int
	FirstCall   time.Duration // from the start until the first call reached the proxy
	Start       time.Time
	Spans       []span // every call with its duration, in start order (for -trace)
}

// total is the number of API calls in the sample.
func (s sample) total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// harness runs the scenarios against the proxy in front of the emulator.
type harness struct {
	o       options
	root    string
	work    string
	bin     string
	emu     *emulator
	log     io.Writer
	proxy   *awsproxy.Proxy
	timer   *timingHandler
	srv     *http.Server
	url     string // what the clients call: the timing listener in front of the proxy
	account string
	part    string
	id      string // distinguishes this benchmark's names from any other run's
	direct  *s3.Client
	outputs []output // command outputs not written yet
}

// output is what a benchmarked command printed, and the file it goes to.
type output struct {
	path string
	data []byte
}

func newHarness(ctx context.Context, o options, root, work, bin string, emu *emulator, log io.Writer) (*harness, error) {
	p, err := awsproxy.Start(emu.Endpoint)
	if err != nil {
		return nil, err
	}
	// The clients call a listener of the harness's own that serves the proxy and notes
	// when each call starts and ends; the proxy records and classifies every call.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	t := &timingHandler{next: p}
	srv := &http.Server{Handler: t, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	b := make([]byte, 3)
	_, _ = rand.Read(b)
	h := &harness{o: o, root: root, work: work, bin: bin, emu: emu, log: log, proxy: p, timer: t, srv: srv,
		url: "http://" + ln.Addr().String(), id: hex.EncodeToString(b)}
	h.direct = s3.NewFromConfig(h.adminConfig(), func(o *s3.Options) { o.UsePathStyle = true })
	if err := h.learnAccount(ctx); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// adminConfig is the emulator's admin calling the emulator itself, past the proxy.
func (h *harness) adminConfig() aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(h.emu.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(h.emu.Key, h.emu.Secret, "")}
}

func (h *harness) learnAccount(ctx context.Context) error {
	id, err := sts.NewFromConfig(h.adminConfig()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("the emulator's admin identity: %w", err)
	}
	h.account = aws.ToString(id.Account)
	h.part = "aws"
	if a := aws.ToString(id.Arn); strings.HasPrefix(a, "arn:") {
		if parts := strings.SplitN(a, ":", 3); len(parts) == 3 {
			h.part = parts[1]
		}
	}
	return nil
}

func (h *harness) close() {
	_ = h.srv.Close()
	_ = h.proxy.Close()
}

// results are every sample per scenario, in round order.
type results map[string][]sample

// measure runs the warm-up and measured rounds.
func (h *harness) measure(ctx context.Context) (results, error) {
	res := results{}
	total := h.o.warmup + h.o.runs
	for round := 0; round < total; round++ {
		warm := round < h.o.warmup
		label := fmt.Sprintf("round %d/%d", round-h.o.warmup+1, h.o.runs)
		if warm {
			label = fmt.Sprintf("warm-up %d/%d", round+1, h.o.warmup)
		}
		logf(h.log, "bench: %s:", label)
		var bHome string
		var jobs []job
		for _, id := range scenarioOrder {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if creates(id) && h.o.restart {
				if err := h.emu.restart(ctx, io.Discard); err != nil {
					return nil, err
				}
			}
			j, home, err := h.prepare(ctx, round, id)
			if err != nil {
				return nil, fmt.Errorf("%s: preparing: %w", id, err)
			}
			if creates(id) {
				jobs = append(jobs, j)
			}
			if id == scenB {
				bHome = home
			}
			if id == scenC || id == scenD {
				home = bHome
			}
			s, err := h.timed(func() error { return h.runScenario(ctx, id, j, home) })
			if err != nil {
				return nil, fmt.Errorf("%s, scenario %s (%s): %w", label, id, scenarioTitles[id], err)
			}
			logf(h.log, " %s %s", id, s.Dur.Round(time.Millisecond))
			if !warm {
				res[id] = append(res[id], s)
			}
		}
		logf(h.log, "\n")
		if !h.o.restart { // a restart empties the emulator anyway
			for _, j := range jobs {
				if err := h.cleanup(ctx, j); err != nil {
					logf(h.log, "bench: cleaning up after %s: %v\n", j.User, err)
				}
			}
		}
	}
	return res, nil
}

// prepare makes a fresh job (names, bucket, documents) and home for one scenario run.
// Nothing here is timed or counted: the bucket is created straight at the emulator.
func (h *harness) prepare(ctx context.Context, round int, id string) (job, string, error) {
	home := filepath.Join(h.work, fmt.Sprintf("r%d-%s", round, id))
	if err := os.MkdirAll(home, 0o700); err != nil {
		return job{}, "", err
	}
	if !creates(id) {
		return job{}, home, nil
	}
	n := fmt.Sprintf("bench-%s-r%d-%s", h.id, round, id)
	j := job{
		Endpoint: h.url, AdminKey: h.emu.Key, AdminSecret: h.emu.Secret,
		Bucket: n, Key: "uploads/bench-object.txt",
		User: n + "-user", Role: n + "-role", UserPolicy: n + "-assume", RolePolicy: n + "-put",
	}
	// The same documents iamwizard writes, so every scenario grants exactly the same.
	docs, err := policydoc.Render(setup.Setup{Partition: h.part, Account: h.account, Bucket: j.Bucket, KeyPrefix: "uploads/",
		UserName: j.User, RoleName: j.Role, UserPolicyName: j.UserPolicy, RolePolicyName: j.RolePolicy,
		MaxSessionDuration: setup.DefaultMaxSessionDuration})
	if err != nil {
		return job{}, "", err
	}
	j.UserDoc, j.RoleDoc, j.TrustDoc = docs.UserPolicy, docs.RolePolicy, docs.Trust
	if _, err := h.direct.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &j.Bucket}); err != nil {
		return job{}, "", fmt.Errorf("creating bucket %s: %w", j.Bucket, err)
	}
	// The application's bucket exists and is in use: one object in it first, because
	// the emulator's first write into a new bucket allocates storage (0.2 s to over 1 s)
	// and would otherwise be timed as part of whichever scenario writes first.
	if _, err := h.direct.PutObject(ctx, &s3.PutObjectInput{Bucket: &j.Bucket, Key: aws.String("existing/data.txt"),
		Body: strings.NewReader("already in the bucket\n")}); err != nil {
		return job{}, "", fmt.Errorf("writing into bucket %s: %w", j.Bucket, err)
	}
	return j, home, nil
}

// timed runs fn with the proxy's record emptied and returns what it took and called.
func (h *harness) timed(fn func() error) (sample, error) {
	h.proxy.Reset()
	h.timer.reset()
	start := time.Now()
	err := fn()
	dur := time.Since(start)
	for _, o := range h.outputs {
		_ = os.WriteFile(o.path, o.data, 0o600)
	}
	h.outputs = nil
	if err != nil {
		return sample{}, err
	}
	s := sample{Dur: dur, Counts: h.proxy.Counts(), Calls: h.proxy.Calls(), IAMWrites: len(h.proxy.IAMWrites())}
	for _, c := range s.Calls {
		if c.Status >= 400 || c.Status == 0 {
			s.Failed++
		}
	}
	s.APITime, s.MaxInFlight, s.Spans = h.timer.stats()
	s.Start = start
	if len(s.Spans) > 0 {
		s.FirstCall = s.Spans[0].Start.Sub(start)
	}
	return s, nil
}

func (h *harness) runScenario(ctx context.Context, id string, j job, home string) error {
	switch id {
	case scenA:
		return h.byHand(ctx, j, home)
	case scenFloor:
		payload, err := json.Marshal(j)
		if err != nil {
			return err
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, self, floorChildArg)
		cmd.Env = childEnv(home, floorEnv+"="+string(payload))
		return runCmd(cmd, &bytes.Buffer{})
	case scenFloorI:
		return floor(ctx, j)
	case scenB:
		return h.iamwizard(ctx, home, "apply", "--yes", "--endpoint-url", h.url, "--bucket", j.Bucket, "--key-prefix", "uploads/",
			"--user", j.User, "--role", j.Role, "--user-policy", j.UserPolicy, "--role-policy", j.RolePolicy)
	case scenC:
		return h.iamwizard(ctx, home, "apply", "--yes")
	case scenD:
		return h.iamwizard(ctx, home, "verify")
	}
	return fmt.Errorf("unknown scenario %q", id)
}

func (h *harness) iamwizard(ctx context.Context, home string, args ...string) error {
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = childEnv(home, "AWS_ACCESS_KEY_ID="+h.emu.Key, "AWS_SECRET_ACCESS_KEY="+h.emu.Secret)
	var out bytes.Buffer
	err := runCmd(cmd, &out)
	// Kept for -keep: what iamwizard said, one file per command, written after the timing.
	h.outputs = append(h.outputs, output{filepath.Join(home, "iamwizard-"+args[0]+"-"+strconv.FormatInt(time.Now().UnixNano(), 10)+".txt"), out.Bytes()})
	return err
}

// runCmd runs cmd with its output into out and turns a failure into an error carrying
// the end of that output.
func runCmd(cmd *exec.Cmd, out *bytes.Buffer) error {
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, tail(out.String(), 40))
	}
	return nil
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// byHand is the classic setup as an administrator types it: ten AWS CLI commands, the
// documents in files, each ARN and key copied from the output of an earlier command.
func (h *harness) byHand(ctx context.Context, j job, home string) error {
	files := map[string]string{"user-policy.json": j.UserDoc, "role-policy.json": j.RoleDoc, "trust.json": j.TrustDoc,
		"object.txt": "iamwizard benchmark\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	file := func(name string) string { return "file://" + filepath.Join(home, name) }
	admin := []string{"AWS_ACCESS_KEY_ID=" + j.AdminKey, "AWS_SECRET_ACCESS_KEY=" + j.AdminSecret}
	aws := func(env []string, out any, args ...string) error {
		cmd := exec.CommandContext(ctx, h.o.awsPath, append(args, "--endpoint-url", h.url, "--output", "json")...)
		cmd.Env = childEnv(home, append([]string{"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER="}, env...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("aws %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 20))
		}
		if out != nil {
			if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
				return fmt.Errorf("aws %s: output: %w", strings.Join(args, " "), err)
			}
		}
		return nil
	}
	var up, rp struct{ Policy struct{ Arn string } }
	var role struct{ Role struct{ Arn string } }
	var key struct {
		AccessKey struct {
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string
		}
	}
	var assumed struct {
		Credentials struct {
			AccessKeyID                   string `json:"AccessKeyId"`
			SecretAccessKey, SessionToken string
		}
	}
	steps := []func() error{
		func() error { return aws(admin, nil, "iam", "create-user", "--user-name", j.User) },
		func() error {
			return aws(admin, &up, "iam", "create-policy", "--policy-name", j.UserPolicy, "--policy-document", file("user-policy.json"))
		},
		func() error {
			return aws(admin, &rp, "iam", "create-policy", "--policy-name", j.RolePolicy, "--policy-document", file("role-policy.json"))
		},
		func() error {
			return aws(admin, nil, "iam", "attach-user-policy", "--user-name", j.User, "--policy-arn", up.Policy.Arn)
		},
		func() error {
			return aws(admin, &role, "iam", "create-role", "--role-name", j.Role, "--assume-role-policy-document", file("trust.json"))
		},
		func() error {
			return aws(admin, nil, "iam", "attach-role-policy", "--role-name", j.Role, "--policy-arn", rp.Policy.Arn)
		},
		func() error { return aws(admin, &key, "iam", "create-access-key", "--user-name", j.User) },
		func() error {
			return aws(userEnv(key.AccessKey.AccessKeyID, key.AccessKey.SecretAccessKey, ""), nil, "sts", "get-caller-identity")
		},
		func() error {
			return aws(userEnv(key.AccessKey.AccessKeyID, key.AccessKey.SecretAccessKey, ""), &assumed,
				"sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "bench")
		},
		func() error {
			c := assumed.Credentials
			return aws(userEnv(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), nil,
				"s3api", "put-object", "--bucket", j.Bucket, "--key", j.Key, "--body", filepath.Join(home, "object.txt"))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func userEnv(key, secret, token string) []string {
	env := []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	return env
}

// timingHandler serves the proxy and notes when calls are in flight, and for the trace
// how long each took.
type timingHandler struct {
	next http.Handler

	mu       sync.Mutex
	inFlight int
	max      int
	busy     time.Duration
	since    time.Time // when inFlight last went from 0 to 1
	spans    []span
}

// span is one call as the timing listener saw it.
type span struct {
	Start, End time.Time
	Label      string // the form's Action for IAM and STS, else method and path
	Status     int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (t *timingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	label := r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && r.ContentLength >= 0 && r.ContentLength < 1<<20 {
		// IAM and STS calls are small forms: read the Action, hand the proxy the same bytes.
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			if q, err := url.ParseQuery(string(body)); err == nil && q.Get("Action") != "" {
				label = q.Get("Action")
			}
		}
	}
	start := time.Now()
	t.mu.Lock()
	if t.inFlight == 0 {
		t.since = start
	}
	t.inFlight++
	t.max = max(t.max, t.inFlight)
	t.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		end := time.Now()
		t.mu.Lock()
		t.inFlight--
		if t.inFlight == 0 {
			t.busy += end.Sub(t.since)
		}
		t.spans = append(t.spans, span{Start: start, End: end, Label: label, Status: sw.status})
		t.mu.Unlock()
	}()
	t.next.ServeHTTP(sw, r)
}

func (t *timingHandler) reset() {
	t.mu.Lock()
	t.max, t.busy, t.spans = 0, 0, nil
	if t.inFlight > 0 {
		t.since = time.Now()
	}
	t.mu.Unlock()
}

func (t *timingHandler) stats() (busy time.Duration, maxInFlight int, spans []span) {
	t.mu.Lock()
	defer t.mu.Unlock()
	spans = slices.Clone(t.spans)
	slices.SortFunc(spans, func(a, b span) int { return a.Start.Compare(b.Start) })
	return t.busy, t.max, spans
}
