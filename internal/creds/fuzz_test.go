package creds

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fuzzSeeds are existing-file contents worth starting from: the realistic
// files plus the syntax corners that a splice could get wrong.
var fuzzSeeds = []string{
	realisticCreds,
	realisticConfig,
	"",
	"[application-user]",
	"[application-user]\nk = v",
	"\xef\xbb\xbf[a]\r\nk = v\r\n",
	"k = v\n[application-user]\n",
	"[a]\ns3 =\n[application-user]\nk = v\n  # c\n",
	"[a]\ns3 =\n  x = 1\n\n  [application-user]\nk = v\n",
	"[application-user]\nsts =\n  endpoint_url = x\nfoo = bar\n  aws_access_key_id = y\n",
	"[services app]\ns3 =\n# c\n  endpoint_url = http://old\n  \n[x]\na = 1\n",
	"[ application-user ]\nk: v\n[application-user]\nk = w\n",
	"[a]\nk = \"\"\"\n[application-user]\n\"\"\"\n",
	"[a]\nk = `x`\n[DEFAULT]\nq = 1\n",
	"[a]\nk = v\\\n[application-user]\n",
	"[a]\n\u00a0[application-user]\nk = v\n",
}

func FuzzApply(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "AKIANEW", "http://127.0.0.1:8333", []string{"aws_access_key_id", "role_arn", "k"}[i%3])
	}
	f.Add(realisticCreds, "a\nb", "x", "k")
	f.Add(realisticCreds, "#x", "x y", "a b")
	f.Fuzz(func(t *testing.T, existing, value, nested, key string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "credentials")
		writeFile(t, path, existing, 0o644)
		want := []Section{
			{Name: "application-user", Keys: []KV{{Key: key, Value: value}, {Key: "aws_secret_access_key", Value: "s/+=="}}},
			{Name: "services app", Keys: []KV{{Key: "s3", Nested: []KV{{Key: "endpoint_url", Value: nested}}}}},
		}
		res, err := Apply(path, want, Options{Backup: true, Now: fixedNow})
		after := readString(t, path)
		if errors.Is(err, errUnsafeEdit) {
			t.Fatal(err)
		}
		if err != nil {
			if after != existing || stat(t, path).Mode().Perm() != 0o644 {
				t.Fatalf("Apply failed (%v) but touched the file", err)
			}
			for _, n := range listDir(t, dir) {
				if n != "credentials" && n != "credentials.lock" {
					t.Fatalf("Apply failed (%v) but left %s", err, n)
				}
			}
			return
		}
		checkEdit(t, existing, after, want, nil)
		if m := stat(t, path).Mode().Perm(); res.Changed != (m == 0o600) || res.Changed != (after != existing) {
			t.Fatalf("mode %o with result %+v", m, res)
		}
		if res.BackupPath != "" && readString(t, res.BackupPath) != existing {
			t.Fatal("backup differs from the original")
		}
		m, err := Read(path)
		if err != nil {
			t.Fatalf("Read after Apply: %v", err)
		}
		if m["application-user"][key] != value || m["services app"]["s3.endpoint_url"] != nested {
			t.Fatalf("Read = %v", m)
		}
		if p, err := Pending(path, want); err != nil || len(p) != 0 {
			t.Fatalf("Pending after Apply = %q, %v", p, err)
		}
		if res, err := Apply(path, want, Options{}); err != nil || res.Changed || res.Tightened {
			t.Fatalf("second Apply = %+v, %v", res, err)
		}
		if _, err := Remove(path, names(want), Options{}); err != nil {
			t.Fatalf("Remove after Apply: %v", err)
		}
		checkEdit(t, existing, readString(t, path), nil, names(want))
	})
}

func FuzzRemove(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, existing string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "credentials")
		writeFile(t, path, existing, 0o644)
		drop := []string{"application-user", "services app"}
		res, err := Remove(path, drop, Options{Backup: true, Now: fixedNow})
		after := readString(t, path)
		if errors.Is(err, errUnsafeEdit) {
			t.Fatal(err)
		}
		if err != nil || !res.Changed {
			if after != existing || stat(t, path).Mode().Perm() != 0o644 {
				t.Fatalf("Remove (changed=%v, err=%v) touched the file", res.Changed, err)
			}
			if got := listDir(t, dir); !slices.Equal(got, []string{"credentials"}) && err == nil {
				t.Fatalf("no-op Remove left %q", got)
			}
			return
		}
		checkEdit(t, existing, after, nil, drop)
		if readString(t, res.BackupPath) != existing {
			t.Fatal("backup differs from the original")
		}
		if res, err := Remove(path, drop, Options{}); err != nil || res.Changed {
			t.Fatalf("second Remove = %+v, %v", res, err)
		}
		if _, err := os.Stat(path + ".lock"); err != nil {
			t.Fatalf("lock file: %v", err)
		}
	})
}

// FuzzSplice drives the same planning code as Apply and Remove in memory, so
// the fuzzer explores INI syntax thousands of times faster than FuzzApply,
// which pays for temp dirs, locks and fsyncs.
func FuzzSplice(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "AKIANEW", "http://127.0.0.1:8333", []string{"aws_access_key_id", "role_arn", "k"}[i%3], i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, existing, value, nested, key string, remove bool) {
		want := []Section{
			{Name: "application-user", Keys: []KV{{Key: key, Value: value}, {Key: "aws_secret_access_key", Value: "s/+=="}}},
			{Name: "services app", Keys: []KV{{Key: "s3", Nested: []KV{{Key: "endpoint_url", Value: nested}}}}},
		}
		c := change{want: want}
		if remove {
			c = change{drop: names(want)}
		} else if validateSections(want) != nil {
			return
		}
		out, changed, _, err := compute([]byte(existing), c)
		if errors.Is(err, errUnsafeEdit) {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		if !changed && string(out) != existing {
			t.Fatal("unchanged plan with different bytes")
		}
		checkEdit(t, existing, string(out), c.want, c.drop)
		again, changed, _, err := compute(out, c)
		if err != nil || changed || string(again) != string(out) {
			t.Fatalf("second plan: changed=%v err=%v", changed, err)
		}
	})
}
