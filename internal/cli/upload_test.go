package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/appclient/apptest"
)

func runUploadCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	stdio := IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	code = Run(context.Background(), NewRoot(stdio, nil), args, stdio)
	return code, out.String(), errb.String()
}

func TestUploadCommandAsTheApplication(t *testing.T) {
	s := apptest.New(t) // the admin is gone from the environment from here on
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.csv")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("data of "+filepath.Base(p)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runUploadCLI("upload", a, b)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, key := range []string{apptest.Prefix + "a.txt", apptest.Prefix + "b.csv"} {
		if !strings.Contains(out, "bucket "+s.Bucket+", key "+key) {
			t.Errorf("output does not name bucket and key %s:\n%s", key, out)
		}
		if _, err := s.Env.S3().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key}); err != nil {
			t.Errorf("the admin does not find %s: %v", key, err)
		}
	}
	code, _, errOut = runUploadCLI("upload", "--key-prefix", "elsewhere/", a)
	if code != ExitFailed || !strings.Contains(errOut, "AccessDenied") || !strings.Contains(errOut, "get-bucket-policy") {
		t.Fatalf("a denied upload: exit %d:\n%s", code, errOut)
	}
	code, _, errOut = runUploadCLI("upload", "--role-profile", "missing-profile", a)
	if code != ExitFailed || !strings.Contains(errOut, "[missing-profile]") {
		t.Fatalf("a missing profile: exit %d:\n%s", code, errOut)
	}
}

func TestUploadCommandUsage(t *testing.T) {
	t.Setenv("IAMWIZARD_SETTINGS", filepath.Join(t.TempDir(), "none.json"))
	for _, args := range [][]string{{"upload"}, {"upload", "--key", "k", "a", "b"}, {"upload", "no-such-file"}, {"upload", "-o", "yaml", "x"}} {
		if code, _, errOut := runUploadCLI(args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitUsage, errOut)
		}
	}
	if code, _, errOut := runUploadCLI("serve", "--max-size", "lots"); code != ExitUsage || !strings.Contains(errOut, "--max-size") {
		t.Errorf("serve --max-size lots: exit %d: %s", code, errOut)
	}
}
