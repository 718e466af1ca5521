package objectkey

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"report.pdf":                      "report.pdf",
		"My Report (final).PDF":           "My-Report-final.PDF",
		"../../etc/passwd":                "passwd",
		`C:\Users\me\photo 1.jpg`:         "photo-1.jpg",
		".bashrc":                         "file.bashrc",
		"...":                             "file",
		"":                                "file",
		"résumé.txt":                      "r-sum.txt",
		"a//b":                            "b",
		"name\x00\n.txt":                  "name.txt",
		"---x---":                         "x",
		"日本語":                             "file",
		"a.verylongextensionthatisnotone": "a.verylongextensionthatisnotone",
		"trailing.":                       "trailing",
		"data.tar.gz":                     "data.tar.gz",
		"we ird   spaces  .csv":           "we-ird-spaces.csv",
		"-leading-dash.txt":               "leading-dash.txt",
		"$(rm -rf ~);`x`|y&z>w.txt":       "rm-rf-x-y-z-w.txt",
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitizeCapsLengthAndKeepsExtension(t *testing.T) {
	got := Sanitize(strings.Repeat("a", 500) + ".pdf")
	if len(got) != MaxNameLength || !strings.HasSuffix(got, ".pdf") {
		t.Fatalf("got %d bytes %q", len(got), got)
	}
}

func TestSanitizeOnlySafeCharacters(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)
	for _, in := range []string{"\xff\xfe.txt", "a\u202eb.exe", "<script>.html", "%2e%2e%2f.txt", " .txt"} {
		if got := Sanitize(in); !safe.MatchString(got) {
			t.Errorf("Sanitize(%q) = %q has unsafe characters or a leading dot", in, got)
		}
	}
}

func TestUnique(t *testing.T) {
	now := time.Date(2026, 12, 3, 17, 11, 40, 0, time.FixedZone("CET", 3600))
	a, b := Unique("uploads/", "my file.txt", now), Unique("uploads/", "my file.txt", now)
	if a == b {
		t.Fatalf("two keys for the same name and second are equal: %s", a)
	}
	want := regexp.MustCompile(`^uploads/20261203T161140Z-[0-9a-f]{6}-my-file\.txt$`)
	if !want.MatchString(a) {
		t.Fatalf("key %q does not match %s", a, want)
	}
}

func TestUnder(t *testing.T) {
	cases := []struct{ prefix, key, want string }{
		{"uploads/", "a.txt", "uploads/a.txt"},
		{"uploads/", "uploads/a.txt", "uploads/a.txt"},
		{"uploads/", "/a.txt", "uploads/a.txt"},
		{"", "dir/a.txt", "dir/a.txt"},
	}
	for _, c := range cases {
		if got := Under(c.prefix, c.key); got != c.want {
			t.Errorf("Under(%q, %q) = %q, want %q", c.prefix, c.key, got, c.want)
		}
	}
}
