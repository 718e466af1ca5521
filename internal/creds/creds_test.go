package creds

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/ini.v1"
)

// TestIniV1RoundTripChangesBytes is the evidence behind the package design:
// loading and saving with ini.v1 rewrites bytes of sections the tool does not
// own, so edits are spliced instead. If this starts failing, ini.v1 has become
// byte-preserving and the splice could be reconsidered.
func TestIniV1RoundTripChangesBytes(t *testing.T) {
	for name, content := range map[string]string{
		"credentials": realisticCreds,
		"config":      realisticConfig,
		"backticks":   "[a]\nk = `x`\n",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := ini.LoadSources(loadOptions, []byte(content))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := f.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() == content {
				t.Fatal("ini.v1 round-trip kept the bytes; the line splice may no longer be needed")
			}
			t.Logf("ini.v1 rewrote:\n%s", buf.String())
		})
	}
}

func TestApplyPreservesUnownedBytes(t *testing.T) {
	tests := []struct {
		name     string
		before   string
		sections []Section
		want     string
	}{
		{
			name:     "replace owned section in the middle of a credentials file",
			before:   realisticCreds,
			sections: []Section{appUser},
			want: strings.Replace(realisticCreds,
				"aws_access_key_id = AKIAOLDOLDOLD\naws_secret_access_key = oldsecret\nextra_key = gone\n",
				"aws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n", 1),
		},
		{
			name:     "append new sections to a config file with nested values",
			before:   realisticConfig,
			sections: []Section{appRole, appServices},
			want: strings.Replace(realisticConfig,
				"role_arn = arn:aws:iam::123456789012:role/old\nsource_profile = application-user\n",
				"role_arn = arn:aws:iam::123456789012:role/application\nsource_profile = application-user\nservices = iamwizard-application-user\n", 1) +
				"\n[services iamwizard-application-user]\n" +
				"sts =\n  endpoint_url = http://127.0.0.1:8333\n" +
				"s3 =\n  endpoint_url = http://127.0.0.1:8333\n",
		},
		{
			name:     "new section after a file without final newline",
			before:   "[default]\nregion=us-east-1",
			sections: []Section{appUser},
			want:     "[default]\nregion=us-east-1\n\n[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n",
		},
		{
			name:     "empty file gets no leading blank line",
			before:   "",
			sections: []Section{appUser},
			want:     "[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n",
		},
		{
			name:     "CRLF file stays CRLF",
			before:   "[default]\r\nregion = x\r\n\r\n[application-user]\r\naws_access_key_id = AKIANEWNEWNEW\r\n",
			sections: []Section{appUser},
			want:     "[default]\r\nregion = x\r\n\r\n[application-user]\r\naws_access_key_id = AKIANEWNEWNEW\r\naws_secret_access_key = newsecret/+==\r\n",
		},
		{
			name: "owned section keeps its header line, comments and correct keys; trailing comment stays",
			before: "[ application-user ] ; ours\n# note\naws_secret_access_key=newsecret/+==\n" +
				"  aws_access_key_id = stale\n\n; about x\n[x]\na=1\n",
			sections: []Section{appUser},
			want: "[ application-user ] ; ours\n# note\naws_secret_access_key=newsecret/+==\n" +
				"aws_access_key_id = AKIANEWNEWNEW\n\n; about x\n[x]\na=1\n",
		},
		{
			name:     "duplicate owned sections collapse into the first",
			before:   "[application-user]\naws_access_key_id = AKIANEWNEWNEW\n\n[x]\na=1\n\n[application-user]\naws_secret_access_key = old\n",
			sections: []Section{appUser},
			want:     "[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n\n[x]\na=1\n",
		},
		{
			name:     "nested owned values rewritten only where they differ",
			before:   "[services iamwizard-application-user]\nsts =\n  endpoint_url = http://127.0.0.1:8333\ns3 =\n  endpoint_url = http://old\n  addressing_style = path\n",
			sections: []Section{appServices},
			want:     "[services iamwizard-application-user]\nsts =\n  endpoint_url = http://127.0.0.1:8333\ns3 =\n  endpoint_url = http://127.0.0.1:8333\n",
		},
		{
			name:     "BOM kept",
			before:   "\xef\xbb\xbf[default]\nregion = x\n",
			sections: []Section{appUser},
			want:     "\xef\xbb\xbf[default]\nregion = x\n\n[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			writeFile(t, path, tt.before, 0o600)
			res, err := Apply(path, tt.sections, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := readString(t, path)
			if got != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if !res.Changed {
				t.Error("Changed = false")
			}
			checkEdit(t, tt.before, got, tt.sections, nil)
			// A second run is a no-op.
			if res, err := Apply(path, tt.sections, Options{}); err != nil || res.Changed {
				t.Fatalf("second Apply: %+v, %v", res, err)
			}
			if p, err := Pending(path, tt.sections); err != nil || len(p) != 0 {
				t.Fatalf("Pending after Apply: %q, %v", p, err)
			}
		})
	}
}

func TestApplyRealisticCredentialsKeepsUnownedBytesExactly(t *testing.T) {
	path := tempPath(t)
	writeFile(t, path, realisticCreds, 0o600)
	if _, err := Apply(path, []Section{appUser, appRole}, Options{}); err != nil {
		t.Fatal(err)
	}
	got := readString(t, path)
	head, _, _ := strings.Cut(realisticCreds, "[application-user]\n")
	_, tail, _ := strings.Cut(realisticCreds, "extra_key = gone\n")
	if !strings.HasPrefix(got, head+"[application-user]\n; managed by iamwizard\n") {
		t.Errorf("bytes before the owned section changed:\n%s", got)
	}
	if !strings.Contains(got, "newsecret/+==\n"+tail+"\n[profile application-role]\n") {
		t.Errorf("bytes after the owned section changed:\n%s", got)
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name   string
		before string
		remove []string
		want   string
	}{
		{
			name:   "middle section, comments of the next one kept",
			before: realisticCreds,
			remove: []string{"application-user"},
			want: strings.Replace(realisticCreds,
				"[application-user]\n; managed by iamwizard\naws_access_key_id = AKIAOLDOLDOLD\naws_secret_access_key = oldsecret\nextra_key = gone\n\n", "", 1),
		},
		{
			name:   "last section with its leading blank line",
			before: "[a]\nk = v\n\n[application-user]\nk = v\n",
			remove: []string{"application-user"},
			want:   "[a]\nk = v\n",
		},
		{
			name:   "all duplicates and several names",
			before: "[services x]\ns3 =\n  endpoint_url = u\n[a]\nk=v\n[ services x ]\nk=v\n[profile p]\nk=v\n",
			remove: []string{"services x", "profile p"},
			want:   "[a]\nk=v\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			writeFile(t, path, tt.before, 0o600)
			res, err := Remove(path, tt.remove, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := readString(t, path)
			if got != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if !res.Changed {
				t.Error("Changed = false")
			}
			checkEdit(t, tt.before, got, nil, tt.remove)
		})
	}
}

func TestRemoveAbsentIsNoOp(t *testing.T) {
	path := tempPath(t)
	writeFile(t, path, realisticCreds, 0o600)
	before := stat(t, path)
	res, err := Remove(path, []string{"nope", "profile application-role"}, Options{Backup: true})
	if err != nil || res != (Result{}) {
		t.Fatalf("Remove: %+v, %v", res, err)
	}
	after := stat(t, path)
	if !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) {
		t.Error("file was rewritten")
	}
	if got := listDir(t, filepath.Dir(path)); !slices.Equal(got, []string{"credentials"}) {
		t.Errorf("dir holds %q", got)
	}

	missing := filepath.Join(t.TempDir(), "no", "credentials")
	if res, err := Remove(missing, []string{"a"}, Options{}); err != nil || res.Changed {
		t.Fatalf("Remove on missing file: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Error("Remove created the directory")
	}
}

func TestApplyThenRemoveRestoresOriginal(t *testing.T) {
	for _, before := range []string{realisticCreds, realisticConfig, "", "[a]\nk=v\n"} {
		path := tempPath(t)
		writeFile(t, path, before, 0o600)
		if _, err := Apply(path, []Section{appUser, appServices}, Options{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(before, "[application-user]") {
			continue // Apply changed an existing section; Remove cannot bring the old one back
		}
		if _, err := Remove(path, names([]Section{appUser, appServices}), Options{}); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, path); got != before {
			t.Errorf("got %q, want %q", got, before)
		}
	}
}

func TestNoWriteWhenInSync(t *testing.T) {
	path := tempPath(t)
	if _, err := Apply(path, []Section{appUser, appServices}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := stat(t, path)
	time.Sleep(10 * time.Millisecond) // let a rewrite show in mtime
	res, err := Apply(path, []Section{appServices, appUser}, Options{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{}) {
		t.Errorf("result %+v, want zero", res)
	}
	after := stat(t, path)
	if !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) {
		t.Error("file was rewritten although in sync")
	}
}

func TestModes(t *testing.T) {
	t.Run("new file 0600 in new 0700 directories", func(t *testing.T) {
		root := t.TempDir()
		path := filepath.Join(root, "home", ".aws", "credentials")
		if _, err := Apply(path, []Section{appUser}, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Join(root, "home"), filepath.Join(root, "home", ".aws")} {
			if m := stat(t, d).Mode().Perm(); m != 0o700 {
				t.Errorf("%s mode %o, want 700", d, m)
			}
		}
		if m := stat(t, path).Mode().Perm(); m != 0o600 {
			t.Errorf("file mode %o", m)
		}
		if m := stat(t, path+".lock").Mode().Perm(); m&0o077 != 0 {
			t.Errorf("lock file mode %o", m)
		}
	})
	t.Run("existing directory not chmodded", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		if _, err := Apply(filepath.Join(dir, "config"), []Section{appRole}, Options{}); err != nil {
			t.Fatal(err)
		}
		if m := stat(t, dir).Mode().Perm(); m != 0o755 {
			t.Errorf("dir mode %o, want 755 untouched", m)
		}
	})
	t.Run("0644 file tightened on write", func(t *testing.T) {
		path := tempPath(t)
		writeFile(t, path, realisticCreds, 0o644)
		res, err := Apply(path, []Section{appUser}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m := stat(t, path).Mode().Perm(); m != 0o600 || !res.Tightened || !res.Changed {
			t.Errorf("mode %o, result %+v", m, res)
		}
	})
	t.Run("0644 file in sync left alone for the caller to report", func(t *testing.T) {
		path := tempPath(t)
		writeFile(t, path, "[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n", 0o644)
		before := stat(t, path)
		res, err := Apply(path, []Section{appUser}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		after := stat(t, path)
		if after.Mode().Perm() != 0o644 || res != (Result{}) || !os.SameFile(before, after) {
			t.Errorf("mode %o, result %+v, same file %v", after.Mode().Perm(), res, os.SameFile(before, after))
		}
		if _, tooOpen, _, _ := Perm(path); !tooOpen {
			t.Error("Perm does not flag it")
		}
	})
	t.Run("Perm", func(t *testing.T) {
		path := tempPath(t)
		if m, open, ok, err := Perm(path); m != 0 || open || ok || err != nil {
			t.Errorf("missing: %o %v %v %v", m, open, ok, err)
		}
		writeFile(t, path, "", 0o640)
		if m, open, ok, err := Perm(path); m != 0o640 || !open || !ok || err != nil {
			t.Errorf("0640: %o %v %v %v", m, open, ok, err)
		}
		os.Chmod(path, 0o600)
		if m, open, ok, err := Perm(path); m != 0o600 || open || !ok || err != nil {
			t.Errorf("0600: %o %v %v %v", m, open, ok, err)
		}
	})
}

func TestBackup(t *testing.T) {
	const stamp = ".iamwizard-backup-20250304T050607Z"
	tests := []struct {
		name       string
		before     string
		apply      []Section
		remove     []string
		wantBackup bool
	}{
		{name: "existing owned section changed", before: realisticCreds, apply: []Section{appUser}, wantBackup: true},
		{name: "only a new section added", before: realisticConfig, apply: []Section{appServices}},
		{name: "owned section already right", before: "[services iamwizard-application-user]\nsts =\n  endpoint_url = http://127.0.0.1:8333\ns3 =\n  endpoint_url = http://127.0.0.1:8333\n", apply: []Section{appServices}},
		{name: "section removed", before: realisticCreds, remove: []string{"application-user"}, wantBackup: true},
		{name: "nothing to remove", before: realisticCreds, remove: []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			writeFile(t, path, tt.before, 0o644)
			var res Result
			var err error
			if tt.apply != nil {
				res, err = Apply(path, tt.apply, Options{Backup: true, Now: fixedNow})
			} else {
				res, err = Remove(path, tt.remove, Options{Backup: true, Now: fixedNow})
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.wantBackup {
				if res.BackupPath != "" {
					t.Fatalf("unexpected backup %s", res.BackupPath)
				}
				for _, n := range listDir(t, filepath.Dir(path)) {
					if strings.Contains(n, "backup") {
						t.Fatalf("stray backup %s", n)
					}
				}
				return
			}
			if res.BackupPath != path+stamp {
				t.Fatalf("BackupPath %q", res.BackupPath)
			}
			if got := readString(t, res.BackupPath); got != tt.before {
				t.Errorf("backup content %q", got)
			}
			if m := stat(t, res.BackupPath).Mode().Perm(); m != 0o600 {
				t.Errorf("backup mode %o", m)
			}
		})
	}

	t.Run("same second twice keeps both", func(t *testing.T) {
		path := tempPath(t)
		writeFile(t, path, realisticCreds, 0o600)
		r1, err := Apply(path, []Section{appUser}, Options{Backup: true, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		second := appUser
		second.Keys = []KV{{Key: "aws_access_key_id", Value: "OTHER"}}
		r2, err := Apply(path, []Section{second}, Options{Backup: true, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if r1.BackupPath == r2.BackupPath || r2.BackupPath != path+stamp+"-2" {
			t.Fatalf("backups %q %q", r1.BackupPath, r2.BackupPath)
		}
		if readString(t, r1.BackupPath) != realisticCreds || !strings.Contains(readString(t, r2.BackupPath), "AKIANEWNEWNEW") {
			t.Error("backup contents wrong")
		}
	})
}

func TestInvalidInputWritesNothing(t *testing.T) {
	long := strings.Repeat("a", MaxLen+1)
	kv := func(k, v string) []Section {
		return []Section{{Name: "application-user", Keys: []KV{{Key: k, Value: v}}}}
	}
	tests := []struct {
		name     string
		sections []Section
	}{
		{"empty value", kv("k", "")},
		{"newline in value", kv("k", "a\n[admin]\naws_access_key_id = evil")},
		{"CR in value", kv("k", "a\rb")},
		{"NUL in value", kv("k", "a\x00b")},
		{"leading space", kv("k", " a")},
		{"trailing space", kv("k", "a ")},
		{"trailing NBSP", kv("k", "a\u00a0")},
		{"value starts with #", kv("k", "#a")},
		{"value starts with ;", kv("k", ";a")},
		{"inline comment", kv("k", "a #b")},
		{"leading quote", kv("k", `"a"`)},
		{"leading backtick", kv("k", "`a`")},
		{"triple quote", kv("k", `"""a`)},
		{"trailing backslash", kv("k", `a\`)},
		{"value too long", kv("k", long)},
		{"invalid UTF-8", kv("k", "a\xffb")},
		{"key with =", kv("a=b", "v")},
		{"key with :", kv("a:b", "v")},
		{"key with [", kv("a[", "v")},
		{"key with space", kv("a b", "v")},
		{"empty key", kv("", "v")},
		{"key -", kv("-", "v")},
		{"name with ]", []Section{{Name: "a]b", Keys: []KV{{Key: "k", Value: "v"}}}}},
		{"name with [", []Section{{Name: "[a"}}},
		{"name with =", []Section{{Name: "a=b"}}},
		{"name with newline", []Section{{Name: "a\nb"}}},
		{"empty name", []Section{{Name: ""}}},
		{"padded name", []Section{{Name: " a"}}},
		{"name too long", []Section{{Name: long}}},
		{"DEFAULT", []Section{{Name: "DEFAULT"}}},
		{"duplicate section", []Section{{Name: "a"}, {Name: "a"}}},
		{"duplicate key", []Section{{Name: "a", Keys: []KV{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}}}},
		{"value and nested", []Section{{Name: "a", Keys: []KV{{Key: "s3", Value: "x", Nested: []KV{{Key: "k", Value: "v"}}}}}}},
		{"bad nested value", []Section{{Name: "a", Keys: []KV{{Key: "s3", Nested: []KV{{Key: "k", Value: "v\nk2 = v"}}}}}}},
		{"doubly nested", []Section{{Name: "a", Keys: []KV{{Key: "s3", Nested: []KV{{Key: "k", Nested: []KV{{Key: "x", Value: "y"}}}}}}}}},
		{"one bad among good", []Section{appUser, {Name: "b", Keys: []KV{{Key: "k", Value: "\n"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			writeFile(t, path, realisticCreds, 0o644)
			if _, err := Apply(path, tt.sections, Options{Backup: true}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Apply err = %v, want ErrInvalid", err)
			}
			if _, err := Pending(path, tt.sections); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Pending err = %v, want ErrInvalid", err)
			}
			if got := readString(t, path); got != realisticCreds {
				t.Error("file changed")
			}
			if m := stat(t, path).Mode().Perm(); m != 0o644 {
				t.Errorf("mode changed to %o", m)
			}
			if got := listDir(t, dir); !slices.Equal(got, []string{"credentials"}) {
				t.Errorf("dir holds %q", got)
			}
			missing := filepath.Join(dir, "new", "credentials")
			if _, err := Apply(missing, tt.sections, Options{}); err == nil {
				t.Fatal("Apply on missing file accepted invalid input")
			}
			if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
				t.Error("directory created for invalid input")
			}
		})
	}
	if _, err := Remove(tempPath(t), []string{"a]"}, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Remove invalid name: %v", err)
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, v := range []string{
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoG//==",
		"arn:aws:iam::123456789012:role/application", "http://127.0.0.1:8333", "a#b;c", "a=b", "[x]", "a b", "é", `a"b`,
	} {
		if err := ValidateValue(v); err != nil {
			t.Errorf("ValidateValue(%q) = %v", v, err)
		}
	}
	for _, n := range []string{"application-user", "profile application-role", "services iamwizard-application-user", "AWS", "default"} {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
}

func TestRefusesFilesItCannotSpliceSafely(t *testing.T) {
	tests := map[string]string{
		"triple-quoted value hides a header": "[a]\nk = \"\"\"\n[application-user]\nx = 1\n\"\"\"\n",
		"backtick value spans lines":         "[a]\nk = `x\n[application-user]\n`\n",
		"quoted key":                         "[a]\n\"k\" = v\n",
		"lone CR line break":                 "[a]\rk = v\r[application-user]\rx = 1\r",
		"line that is no key":                "[a]\njust words\n",
		"unclosed header":                    "[a\nk = v\n",
		"empty header":                       "[]\nk = v\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			writeFile(t, path, content, 0o644)
			if _, err := Apply(path, []Section{appUser}, Options{Backup: true}); !errors.Is(err, ErrSyntax) {
				t.Fatalf("Apply err = %v, want ErrSyntax", err)
			}
			if _, err := Remove(path, []string{"application-user"}, Options{}); !errors.Is(err, ErrSyntax) {
				t.Fatalf("Remove err = %v, want ErrSyntax", err)
			}
			if _, err := Read(path); !errors.Is(err, ErrSyntax) {
				t.Fatalf("Read err = %v, want ErrSyntax", err)
			}
			if readString(t, path) != content || stat(t, path).Mode().Perm() != 0o644 {
				t.Error("file touched")
			}
			if got := listDir(t, dir); !slices.Equal(got, []string{"credentials"}) {
				t.Errorf("dir holds %q", got)
			}
		})
	}
}

func TestSymlinkTargetWritten(t *testing.T) {
	t.Run("existing target", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "real", "credentials")
		os.MkdirAll(filepath.Dir(target), 0o700)
		writeFile(t, target, realisticCreds, 0o600)
		link := filepath.Join(dir, "credentials")
		if err := os.Symlink("real/credentials", link); err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(link, []Section{appUser}, Options{}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("link replaced: %v %v", fi.Mode(), err)
		}
		if !strings.Contains(readString(t, target), "AKIANEWNEWNEW") {
			t.Error("target not written")
		}
		if m, _, _, _ := Perm(link); m != 0o600 {
			t.Errorf("target mode %o", m)
		}
	})
	t.Run("dangling link creates target", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "credentials.real")
		link := filepath.Join(dir, "credentials")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(link, []Section{appUser}, Options{}); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
			t.Fatal("link replaced")
		}
		if !strings.Contains(readString(t, target), "AKIANEWNEWNEW") {
			t.Error("target not written")
		}
	})
}

func TestRead(t *testing.T) {
	m, err := Read(filepath.Join(t.TempDir(), "missing"))
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("missing file: %v %v", m, err)
	}
	path := tempPath(t)
	writeFile(t, path, realisticConfig+"\n[ services x ]\nsts =\n  # c\n  endpoint_url = http://e\n", 0o600)
	m, err = Read(path)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[[2]string]string{
		{"default", "output"}:                          "json",
		{"default", "s3"}:                              "",
		{"default", "s3.max_concurrent_requests"}:      "10",
		{"default", "s3.max_queue_size"}:               "1000",
		{"profile admin", "mfa_serial"}:                "arn:aws:iam::123456789012:mfa/ops",
		{"profile application-role", "role_arn"}:       "arn:aws:iam::123456789012:role/old",
		{"services x", "sts.endpoint_url"}:             "http://e",
		{"profile application-role", "source_profile"}: "application-user",
	}
	for k, want := range checks {
		got, ok := m[k[0]][k[1]]
		if !ok || got != want {
			t.Errorf("%s.%s = %q (%v), want %q", k[0], k[1], got, ok, want)
		}
	}
	if _, ok := m["DEFAULT"]; ok {
		t.Error("empty DEFAULT section reported")
	}
	if len(m["default"]) != 5 {
		t.Errorf("default = %v", m["default"])
	}

	creds := tempPath(t)
	writeFile(t, creds, realisticCreds, 0o600)
	m, err = Read(creds)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["admin"]["aws_secret_access_key"]; got != "se#cret;with/hash+and=semi" {
		t.Errorf("value with # read as %q", got)
	}
	if got := m["default"]["region"]; got != "eu-west-1" {
		t.Errorf("region %q", got)
	}
}

func TestPending(t *testing.T) {
	all := []Section{appUser, appRole, appServices}
	p, err := Pending(filepath.Join(t.TempDir(), "missing"), all)
	if err != nil || !slices.Equal(p, names(all)) {
		t.Fatalf("missing file: %q %v", p, err)
	}
	path := tempPath(t)
	writeFile(t, path, realisticConfig, 0o600)
	if _, err := Apply(path, []Section{appServices}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := readString(t, path)
	p, err = Pending(path, all)
	if err != nil || !slices.Equal(p, []string{"application-user", "profile application-role"}) {
		t.Fatalf("Pending = %q %v", p, err)
	}
	if readString(t, path) != before {
		t.Error("Pending wrote")
	}
	// Sub-property order and comments among them do not count as a difference.
	writeFile(t, path, "[services iamwizard-application-user]\ns3 =\n  # ours\n  endpoint_url = http://127.0.0.1:8333\nsts=\n  endpoint_url=http://127.0.0.1:8333\n", 0o600)
	if p, err := Pending(path, []Section{appServices}); err != nil || len(p) != 0 {
		t.Fatalf("Pending = %q %v", p, err)
	}
	// An indented key line or a duplicate is a difference: Apply will normalize it.
	for _, c := range []string{
		"[application-user]\n  aws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n",
		"[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\naws_access_key_id = AKIANEWNEWNEW\n",
		"[application-user]\naws_access_key_id = AKIANEWNEWNEW\naws_secret_access_key = newsecret/+==\n[application-user]\n",
	} {
		writeFile(t, path, c, 0o600)
		if p, err := Pending(path, []Section{appUser}); err != nil || len(p) != 1 {
			t.Errorf("Pending(%q) = %q %v", c, p, err)
		}
	}
}
