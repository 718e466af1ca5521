package resilience_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamwizard/iamwizard/internal/awsproxy"

	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

// Two apply runs at once on one machine, with different setups writing different
// profiles into the same shared files and settings, do not lose each other's writes
// (the files are locked): both sets of profiles end up in the files and both setups
// verify.
func TestTwoConcurrentRunsDoNotCorruptTheSharedFiles(t *testing.T) {
	f := newFixture(t)
	f.seedSharedFiles(t)
	// A lost write shows only when the two writes meet; three rounds make that likely
	// enough that a missing lock is caught (one round alone catches it about one time
	// in three).
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) { f.concurrentRound(t, round) })
	}
	f.assertUnrelatedKept(t)
}

func (f *fixture) concurrentRound(t *testing.T, round int) {
	// Hold both runs' CreateAccessKey answers until both have arrived (or 1 s), so
	// that, were the runs not serialised, they would write the credentials file at the
	// same moment: without the locks one write is lost.
	barrier := newAnswerBarrier(t, f.env.Endpoint, "CreateAccessKey", 2)
	proxy, err := awsproxy.Start(barrier.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	proxy.OnResponse(f.secrets.record)
	type setup struct{ user, role, upol, rpol, app, roleProfile string }
	var setups []setup
	for _, side := range []string{"a", "b"} {
		s := setup{testenv.Unique("rs-user-"), testenv.Unique("rs-role-"), testenv.Unique("rs-assume-"), testenv.Unique("rs-put-"),
			fmt.Sprintf("app-%s%d", side, round), fmt.Sprintf("role-%s%d", side, round)}
		f.removeAtEnd(t, s.user, s.role, s.upol, s.rpol)
		setups = append(setups, s)
	}
	argsOf := func(s setup, cmd string) []string {
		return []string{cmd, "--endpoint-url", proxy.URL(), "--bucket", f.bucket, "--key-prefix", "uploads/",
			"--user", s.user, "--role", s.role, "--user-policy", s.upol, "--role-policy", s.rpol,
			"--app-profile", s.app, "--role-profile", s.roleProfile}
	}
	var wg sync.WaitGroup
	results := make([]string, len(setups))
	for i, s := range setups {
		wg.Go(func() {
			code, out, errs := f.runBin(t, append(argsOf(s, "apply"), "--yes")...)
			if code != 0 || !strings.Contains(out, "All checks passed") {
				results[i] = fmt.Sprintf("apply of %s exited %d:\n%s", s.user, code, f.secrets.redact(out+errs))
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r != "" {
			t.Error(r)
		}
	}
	credentials, err := creds.Read(f.credentialsFile())
	if err != nil {
		t.Fatalf("the credentials file does not parse: %v", err)
	}
	config, err := creds.Read(f.configFile())
	if err != nil {
		t.Fatalf("the config file does not parse: %v", err)
	}
	for _, s := range setups {
		if credentials[s.app]["aws_access_key_id"] == "" {
			t.Errorf("[%s] is missing from the credentials file", s.app)
		}
		if !strings.HasSuffix(config["profile "+s.roleProfile]["role_arn"], ":role/"+s.role) || config["profile "+s.roleProfile]["source_profile"] != s.app {
			t.Errorf("[profile %s] is missing or wrong in the config file: %v", s.roleProfile, config["profile "+s.roleProfile])
		}
		if code, out, errs := f.run(t, append(argsOf(s, "verify"), "--propagation-timeout", "5s")...); code != 0 {
			t.Errorf("verify of %s exited %d:\n%s", s.user, code, f.secrets.redact(out+errs))
		}
	}
}

// assertUnrelatedKept checks that the unrelated profiles and comments are still there.
func (f *fixture) assertUnrelatedKept(t *testing.T) {
	t.Helper()
	for p, want := range map[string]string{f.credentialsFile(): otherCredentials, f.configFile(): otherConfig} {
		if !strings.Contains(readFile(t, p), want) {
			t.Errorf("%s lost or changed the unrelated profile and its comment", p)
		}
	}
}

// answerBarrier is a pass-through proxy in front of the emulator that holds the
// answers to one operation until n of them are in, then lets them all go at once.
type answerBarrier struct {
	url     string
	mu      sync.Mutex
	waiting int
	release chan struct{}
	n       int
}

func newAnswerBarrier(t *testing.T, upstream, operation string, n int) *answerBarrier {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	b := &answerBarrier{release: make(chan struct{}), n: n}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the client signed the Host it used
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.Header.Get("X-Barrier-Op") != operation {
				return nil
			}
			b.mu.Lock()
			b.waiting++
			if b.waiting == b.n {
				close(b.release)
			}
			b.mu.Unlock()
			select {
			case <-b.release:
			case <-time.After(time.Second): // the other run waits for this one (the engine serialises applies)
			}
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Body != nil {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == operation {
				// Marks the outgoing request; it is not signed, so adding it is harmless.
				r.Header.Set("X-Barrier-Op", operation)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}
