package resilience_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

// Pre-existing content of the shared files that no run may touch.
const (
	otherCredentials = "# the team's deploy key, rotated by hand\n[deploy]\naws_access_key_id = AKIAOTHERPROFILE0001\naws_secret_access_key = other-profile-secret-not-real\n\n"
	otherConfig      = "# keep: the deploy profile's region\n[profile deploy]\nregion = eu-central-1\n\n"
)

// seedSharedFiles writes unrelated profiles and comments into the shared files.
func (f *fixture) seedSharedFiles(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.credentialsFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	for p, content := range map[string]string{f.credentialsFile(): otherCredentials, f.configFile(): otherConfig} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// assertConverged checks the end state every run must reach: exactly one access key
// on the user and it is the stored one, the shared files parse and keep the unrelated
// profiles and comments byte for byte, and the settings file parses.
func (f *fixture) assertConverged(t *testing.T) {
	t.Helper()
	stored := f.storedKey(t, "application-user")
	if keys := f.keys(t, f.user); len(keys) != 1 || keys[0] != stored {
		t.Errorf("keys on the user %v, stored %q: want exactly the stored one", keys, stored)
	}
	for p, want := range map[string]string{f.credentialsFile(): otherCredentials, f.configFile(): otherConfig} {
		if b := readFile(t, p); !strings.Contains(b, want) {
			t.Errorf("%s lost or changed the unrelated profile and its comment", filepath.Base(p))
		}
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(readFile(t, settingsFile())), &s); err != nil {
		t.Errorf("the settings file does not parse: %v", err)
	}
}

// killAt is a fault that, on the nth call the proxy forwards, kills the process
// with SIGKILL and drops the connection, so the call never reaches the emulator.
func killAt(n int, pid func() int, kill func()) awsproxy.Fault {
	seen := 0
	return awsproxy.Fault{Name: "Kill", Match: func(awsproxy.Call, []byte) bool {
		seen++
		if seen == n {
			kill()
			return true
		}
		return false
	}, Respond: func(awsproxy.Call) (int, string, []byte, bool) { return 0, "", nil, true }}
}

// Interruption: apply killed (SIGKILL) before any call of a first run and re-run
// converges to the same end state with no orphan key and intact shared files.
func TestApplyKilledAtEveryCallConverges(t *testing.T) {
	// How many calls a clean first run makes, on names of its own.
	var total int
	t.Run("clean", func(t *testing.T) {
		f := newFixture(t)
		f.seedSharedFiles(t)
		if code, out, errs := f.runBin(t, append([]string{"apply", "--yes"}, f.flags()...)...); code != 0 {
			t.Fatalf("clean run exited %d:\n%s", code, f.secrets.redact(out+errs))
		}
		calls := f.proxy.Calls()
		total = len(calls)
		f.assertConverged(t)
	})
	if total == 0 {
		t.FailNow()
	}
	for n := 1; n <= total; n++ {
		t.Run(fmt.Sprintf("kill at call %d of %d", n, total), func(t *testing.T) {
			f := newFixture(t)
			f.seedSharedFiles(t)
			cmd, out, errb := f.command(t, append([]string{"apply", "--yes"}, f.flags()...)...)
			var once sync.Once
			remove := f.proxy.AddFault(killAt(n, func() int { return cmd.Process.Pid }, func() {
				once.Do(func() { _ = cmd.Process.Kill() })
			}))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			remove()
			f.keep("killed run stdout", out.String())
			f.keep("killed run stderr", errb.String())
			killed := f.proxy.Count(func(c awsproxy.Call) bool { return c.Injected == "Kill" })
			if killed != 1 {
				t.Logf("the run made fewer than %d calls this time; it was not killed", n)
			}
			f.proxy.Reset()
			code, o, e := f.run(t, append([]string{"apply", "--yes"}, f.flags()...)...)
			if code != 0 || !strings.Contains(o, "All checks passed") {
				t.Fatalf("the re-run after a kill at call %d exited %d:\n%s", n, code, f.secrets.redact(o+e))
			}
			f.assertConverged(t)
		})
	}
}

// Interruption where AWS carried out CreateAccessKey but its answer was lost: the key
// exists and its secret is nowhere. The run fails (the SDK must not create another),
// and the next run finds that key through the intent recorded before the call and
// deletes it.
func TestALostCreateAccessKeyAnswerLeavesNoOrphan(t *testing.T) {
	f := newFixture(t)
	f.seedSharedFiles(t)
	var created []string
	var mu sync.Mutex
	f.proxy.OnResponse(func(c awsproxy.Call, body []byte) {
		if c.Operation == "CreateAccessKey" {
			mu.Lock()
			created = append(created, xmlElements(body, "AccessKeyId")["AccessKeyId"]...)
			mu.Unlock()
		}
	})
	remove := f.proxy.AddFault(awsproxy.DropResponseFault(awsproxy.ByOperation("CreateAccessKey"), 1))
	code, out, errs := f.runBin(t, append([]string{"apply", "--yes"}, f.flags()...)...)
	remove()
	if code == 0 {
		t.Fatalf("apply passed although CreateAccessKey's answer was lost:\n%s", f.secrets.redact(out+errs))
	}
	mu.Lock()
	orphan := slices.Clone(created)
	mu.Unlock()
	if len(orphan) != 1 {
		t.Fatalf("the first run created %d keys, want 1 (the SDK must not resend CreateAccessKey)", len(orphan))
	}
	if keys := f.keys(t, f.user); !slices.Equal(keys, orphan) {
		t.Fatalf("keys after the lost answer: %v", keys)
	}

	f.proxy.Reset()
	code, out, errs = f.run(t, append([]string{"apply", "--yes"}, f.flags()...)...)
	if code != 0 || !strings.Contains(out, "All checks passed") {
		t.Fatalf("the re-run exited %d:\n%s", code, f.secrets.redact(out+errs))
	}
	if !strings.Contains(out, "deleting key "+orphan[0]) {
		t.Errorf("the re-run did not say it deleted the orphan %s", orphan[0])
	}
	f.assertConverged(t)
	if slices.Contains(f.keys(t, f.user), orphan[0]) {
		t.Errorf("the orphan %s is still there", orphan[0])
	}
	if bytes.Contains([]byte(readFile(t, settingsFile())), []byte(`"key_intents"`)) {
		t.Errorf("the settings file still holds the key intent after the orphan was cleaned up")
	}
}

// A create whose answer is lost (AWS made the user, role or policy; the run never
// heard) is still the run's own on the retry and on the next run. Endpoints that drop
// or refuse tags (the emulator drops tags on CreateUser and refuses them on
// CreateRole) show whether ownership is recorded before the create, as the key
// intent is for CreateAccessKey, or only after it, when it is too late.
func TestALostCreateAnswerStillConverges(t *testing.T) {
	for _, op := range []string{"CreateUser", "CreateRole", "CreatePolicy"} {
		t.Run(op, func(t *testing.T) {
			f := newFixture(t)
			f.seedSharedFiles(t)
			remove := f.proxy.AddFault(awsproxy.DropResponseFault(awsproxy.ByOperation(op), 1))
			code, _, _ := f.run(t, append([]string{"apply", "--yes"}, f.flags()...)...)
			remove()
			if code == 0 {
				// The SDK resent the create and the run took the existing entity as its own.
				f.assertConverged(t)
				return
			}
			code, out, errs := f.run(t, append([]string{"apply", "--yes"}, f.flags()...)...)
			if code != 0 || !strings.Contains(out, "All checks passed") {
				t.Fatalf("the re-run after %s's answer was lost exited %d:\n%s", op, code, f.secrets.redact(out+errs))
			}
			f.assertConverged(t)
		})
	}
}
