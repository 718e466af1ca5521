package resilience_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Case 8: the application's files are 0600 in a 0700 directory; verify warns, naming
// the file and its mode, when one is wider; apply narrows it back to 0600.
func TestWideFilesAreWarnedAboutAndTightened(t *testing.T) {
	f := newFixture(t)
	f.mustApply(t, f.flags()...)
	for _, p := range []string{f.credentialsFile(), f.configFile()} {
		if mode := perm(t, p); mode != 0o600 {
			t.Fatalf("%s is %04o after apply, want 0600", p, mode)
		}
	}
	if mode := perm(t, filepath.Dir(f.credentialsFile())); mode != 0o700 {
		t.Fatalf("%s is %04o, want 0700", filepath.Dir(f.credentialsFile()), mode)
	}

	if err := os.Chmod(f.credentialsFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := f.run(t, "verify", "--propagation-timeout", "1s")
	text := f.secrets.redact(out + errs)
	if !strings.Contains(text, fmt.Sprintf("%s is 0644", f.credentialsFile())) {
		t.Errorf("verify (exit %d) does not warn that %s is 0644:\n%s", code, f.credentialsFile(), text)
	}
	out = f.mustApply(t)
	if mode := perm(t, f.credentialsFile()); mode != 0o600 {
		t.Fatalf("apply left %s at %04o, want 0600:\n%s", f.credentialsFile(), mode, f.secrets.redact(out))
	}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// Case 9: the preflight compares this machine's clock with the Date AWS answers with
// and warns, with the offset, above 5 minutes.
func TestClockSkewIsWarnedAbove5Minutes(t *testing.T) {
	f := newFixture(t)
	f.proxy.SetDateOffset(10 * time.Minute)
	_, out, errs := f.run(t, append([]string{"plan"}, f.flags()...)...)
	text := out + errs
	m := skewWarning.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no clock warning with the offset for a 10 minute skew:\n%s", f.secrets.redact(text))
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d.Abs() < 10*time.Minute-3*time.Second || d.Abs() > 10*time.Minute+3*time.Second {
		t.Errorf("the warning says the clock is %s off, want about 10 minutes", m[1])
	}
	f.proxy.SetDateOffset(time.Minute)
	_, out, errs = f.run(t, append([]string{"plan"}, f.flags()...)...)
	if text := out + errs; strings.Contains(text, "clock is") {
		t.Errorf("a clock warning for a 1 minute skew:\n%s", f.secrets.redact(text))
	}
}

// skewWarning is the preflight's clock warning, with the offset.
var skewWarning = regexp.MustCompile(`clock is (-?[0-9hms.]+) off AWS's`)
