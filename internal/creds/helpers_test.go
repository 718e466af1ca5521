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
	// ini.v1 merges repeated headers unless told not to; count them apart.
	opts := loadOptions
	opts.AllowNonUniqueSections = true
	fu, err := ini.LoadSources(opts, []byte(after))
	if err != nil {
		t.Fatalf("after does not parse: %v", err)
	}
	count := func(name string) int {
		n := 0
		for _, sec := range fu.Sections() {
			if strings.TrimSpace(sec.Name()) == name {
				n++
			}
		}
		return n
	}
	owned := map[string]bool{}
	for _, n := range drop {
		owned[n] = true
		if c := count(n); c != 0 {
			t.Fatalf("section %q still present %d times:\n%s", n, c, after)
		}
	}
	for _, s := range want {
		owned[s.Name] = true
		if c := count(s.Name); c != 1 {
			t.Fatalf("section %q appears %d times in\n%s", s.Name, c, after)
		}
		var sec *ini.Section
		for _, x := range fa.Sections() {
			if strings.TrimSpace(x.Name()) == s.Name {
				sec = x
			}
		}
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
			got := append([]string(nil), subProperties(k.NestedValues())...)
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
	if d := diff(unowned(iniView(fb), owned), unowned(iniView(fa), owned), true); d != "" {
		t.Fatalf("unowned content changed: %s\nbefore:\n%s\nafter:\n%s", d, before, after)
	}

	// Every unowned line is kept, in order, byte for byte (only a missing
	// final newline may be added). It may end up inside an owned section only
	// as a comment (an indented comment after an appended "s3 =" reads as one
	// of its sub-property lines), and the only lines that may join the
	// unowned ones are comments that sat inside an owned section.
	all, ob := ownedSplit(t, before, owned)
	var lb []splitLine
	for _, l := range all {
		if !l.owned {
			lb = append(lb, l)
		}
	}
	la, _ := ownedSplit(t, after, owned)
	j := 0
	for _, l := range la {
		switch {
		case l.owned && !isComment(l.text):
		case j < len(lb) && l.text == lb[j].text:
			j++
		case !l.owned && !ob[l.text]:
			t.Fatalf("line %q appeared outside owned sections:\n%s", l.text, after)
		}
	}
	if j != len(lb) {
		t.Fatalf("unowned line %q lost:\nbefore:\n%s\nafter:\n%s", lb[j].text, before, after)
	}
}

type splitLine struct {
	text  string
	owned bool
}

func isComment(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && (s[0] == '#' || s[0] == ';')
}

// ownedSplit lists the non-blank lines of content, each marked as inside an
// owned section's header..last-key range or not, and the set of comment
// lines inside those ranges.
func ownedSplit(t testing.TB, content string, owned map[string]bool) (lines []splitLine, ownedComments map[string]bool) {
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
	ownedComments = map[string]bool{}
	for i, l := range d.lines {
		text := strings.TrimRight(l.raw, "\r\n")
		switch {
		case strings.TrimSpace(text) == "":
		case in[i]:
			if isComment(text) {
				ownedComments[text] = true
			}
			lines = append(lines, splitLine{text, true})
		default:
			lines = append(lines, splitLine{text, false})
		}
	}
	return lines, ownedComments
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "credentials")
}
