package creds

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/ini.v1"
)

// realisticCreds is a credentials file as found on a shared server: comments
// of both kinds, odd spacing, a session token, a value with '#' and ';'.
const realisticCreds = "# ~/.aws/credentials on app01 - edited by hand\n" +
	"; ops: rotate admin keys quarterly\n" +
	"\n" +
	"[default]\n" +
	"aws_access_key_id=AKIAIOSFODNN7EXAMPLE\n" +
	"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n" +
	"   region   =   eu-west-1\t\n" +
	"\n" +
	"# admin: MFA session, refreshed by aws-mfa\n" +
	"[admin]\n" +
	"aws_access_key_id     = ASIAADMINEXAMPLE\n" +
	"aws_secret_access_key=se#cret;with/hash+and=semi\n" +
	"aws_session_token = IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD==\n" +
	"x_security_token_expires = 2024-05-01T12:00:00Z\n" +
	"\n" +
	"[application-user]\n" +
	"; managed by iamwizard\n" +
	"aws_access_key_id = AKIAOLDOLDOLD\n" +
	"aws_secret_access_key = oldsecret\n" +
	"extra_key = gone\n" +
	"\n" +
	"# ci robot below\n" +
	"[ci]\n" +
	"aws_access_key_id=AKIACI\n" +
	"aws_secret_access_key=cisecret\n"

// realisticConfig is a shared config file with nested s3 settings.
const realisticConfig = "[default]\n" +
	"region = us-east-1\n" +
	"output=json\n" +
	"s3 =\n" +
	"  max_concurrent_requests = 10\n" +
	"  # keep queue small\n" +
	"  max_queue_size = 1000\n" +
	"\n" +
	"[profile admin]\n" +
	"role_arn = arn:aws:iam::123456789012:role/Admin\n" +
	"source_profile = default\n" +
	"mfa_serial = arn:aws:iam::123456789012:mfa/ops\n" +
	"# the application's role\n" +
	"[profile application-role]\n" +
	"role_arn = arn:aws:iam::123456789012:role/old\n" +
	"source_profile = application-user\n"

var appUser = Section{Name: "application-user", Keys: []KV{
	{Key: "aws_access_key_id", Value: "AKIANEWNEWNEW"},
	{Key: "aws_secret_access_key", Value: "newsecret/+=="},
}}

var appRole = Section{Name: "profile application-role", Keys: []KV{
	{Key: "role_arn", Value: "arn:aws:iam::123456789012:role/application"},
	{Key: "source_profile", Value: "application-user"},
	{Key: "services", Value: "iamwizard-application-user"},
}}

var appServices = Section{Name: "services iamwizard-application-user", Keys: []KV{
	{Key: "sts", Nested: []KV{{Key: "endpoint_url", Value: "http://127.0.0.1:8333"}}},
	{Key: "s3", Nested: []KV{{Key: "endpoint_url", Value: "http://127.0.0.1:8333"}}},
}}

var fixedNow = func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) }

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readString(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stat(t testing.TB, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func names(ss []Section) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// checkEdit asserts the acceptance bar for an edit from before to after that
// made want exact and removed drop, judged by ini.v1 (independently of the
// splicer) and line by line:
//   - after parses with ini.v1;
//   - each wanted section is there once with exactly its keys and values;
//   - each dropped section is gone;
//   - every other section reads exactly as before;
//   - every non-blank line outside the owned sections is kept, in order,
//     byte for byte (only a missing final newline may be added).
func checkEdit(t testing.TB, before, after string, want []Section, drop []string) {
	t.Helper()
	fb, err := ini.LoadSources(loadOptions, []byte(before))
	if err != nil {
		t.Fatalf("before does not parse but the edit succeeded: %v", err)
	}
	fa, err := ini.LoadSources(loadOptions, []byte(after))
	if err != nil {
		t.Fatalf("after does not parse: %v\n%s", err, after)
	}
	owned := map[string]bool{}
	for _, n := range drop {
		owned[n] = true
	}
	for _, s := range want {
		owned[s.Name] = true
		var found []*ini.Section
		for _, sec := range fa.Sections() {
			if strings.TrimSpace(sec.Name()) == s.Name {
				found = append(found, sec)
			}
		}
		if len(found) != 1 {
			t.Fatalf("section %q appears %d times in\n%s", s.Name, len(found), after)
		}
		sec := found[0]
		if len(sec.Keys()) != len(s.Keys) {
			t.Fatalf("section %q has keys %q, want %d keys", s.Name, sec.KeyStrings(), len(s.Keys))
		}
		for _, kv := range s.Keys {
			k, err := sec.GetKey(kv.Key)
			if err != nil {
				t.Fatalf("section %q lacks key %q:\n%s", s.Name, kv.Key, after)
			}
			if k.Value() != kv.Value {
				t.Fatalf("section %q key %q = %q, want %q", s.Name, kv.Key, k.Value(), kv.Value)
			}
			var got []string
			for _, n := range subProperties(k.NestedValues()) {
				got = append(got, n)
			}
			var wantNested []string
			for _, n := range kv.Nested {
				wantNested = append(wantNested, n.Key+" = "+n.Value)
			}
			slices.Sort(got)
			slices.Sort(wantNested)
			if !slices.Equal(got, wantNested) {
				t.Fatalf("section %q key %q nested %q, want %q", s.Name, kv.Key, got, wantNested)
			}
		}
	}
	for _, n := range drop {
		for _, sec := range fa.Sections() {
			if strings.TrimSpace(sec.Name()) == n {
				t.Fatalf("section %q still present:\n%s", n, after)
			}
		}
	}
	if d := diff(unowned(iniView(fb), owned), unowned(iniView(fa), owned), true); d != "" {
		t.Fatalf("unowned content changed: %s\nbefore:\n%s\nafter:\n%s", d, before, after)
	}

	lb, la := unownedLines(t, before, owned), unownedLines(t, after, owned)
	if !slices.Equal(lb, la) {
		t.Fatalf("unowned lines changed:\n%q\nvs\n%q", lb, la)
	}
}

// unownedLines lists the non-blank lines outside owned sections' header..last-key ranges.
func unownedLines(t testing.TB, content string, owned map[string]bool) []string {
	t.Helper()
	d, err := scan([]byte(content))
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	in := make([]bool, len(d.lines))
	for _, o := range d.occs {
		if o.header >= 0 && owned[o.name] {
			for i := o.header; i <= o.last; i++ {
				in[i] = true
			}
		}
	}
	var out []string
	for i, l := range d.lines {
		if !in[i] && l.kind != kBlank {
			out = append(out, strings.TrimRight(l.raw, "\r\n"))
		}
	}
	return out
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "credentials")
}
