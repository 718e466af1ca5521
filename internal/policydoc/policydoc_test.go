package policydoc

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/iamwizard/iamwizard/internal/setup"
)

func sample() setup.Setup {
	return setup.Setup{Partition: "aws", Account: "123456789012", Bucket: "my-bucket", KeyPrefix: "uploads/",
		UserName: "application-user", RoleName: "application-role", UserPolicyName: "assume-role-policy",
		RolePolicyName: "allow-put-s3-object", MaxSessionDuration: 3600}
}

// grants decodes a rendered document into its statements.
func grants(t *testing.T, doc string) []map[string]any {
	t.Helper()
	var d struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	return d.Statement
}

func TestRenderGrantsExactlyWhatTheSetupNeeds(t *testing.T) {
	docs, err := Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	user := grants(t, docs.UserPolicy)
	if len(user) != 1 || user[0]["Action"] != "sts:AssumeRole" || user[0]["Resource"] != "arn:aws:iam::123456789012:role/application-role" {
		t.Errorf("user policy grants %v", user)
	}
	role := grants(t, docs.RolePolicy)
	if len(role) != 1 || role[0]["Resource"] != "arn:aws:s3:::my-bucket/uploads/*" {
		t.Errorf("role policy grants %v", role)
	}
	for _, a := range toList(role[0]["Action"]) {
		if a != "s3:PutObject" && a != "s3:AbortMultipartUpload" {
			t.Errorf("role policy grants action %v beyond putting objects", a)
		}
	}
	trust := grants(t, docs.Trust)
	p, _ := trust[0]["Principal"].(map[string]any)
	if len(trust) != 1 || p["AWS"] != "arn:aws:iam::123456789012:user/application-user" || trust[0]["Action"] != "sts:AssumeRole" {
		t.Errorf("trust policy is %v", trust)
	}
}

func toList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func TestRenderEdgeCaseNamesStayValidJSON(t *testing.T) {
	for _, c := range []func(*setup.Setup){
		func(s *setup.Setup) { s.UserName = "a+b=c,d.e@f_g-h" },
		func(s *setup.Setup) { s.RoleName = strings.Repeat("r", 64) },
		func(s *setup.Setup) { s.KeyPrefix = "dossier été/sub dir (1)/a&b=c+d/" },
		func(s *setup.Setup) { s.KeyPrefix = "" },
		func(s *setup.Setup) { s.Bucket = "a.b-c" },
	} {
		s := sample()
		c(&s)
		docs, err := Render(s)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		for _, d := range []string{docs.UserPolicy, docs.RolePolicy, docs.Trust} {
			if !json.Valid([]byte(d)) {
				t.Fatalf("invalid JSON for %+v:\n%s", s, d)
			}
		}
		role := grants(t, docs.RolePolicy)
		if got, want := role[0]["Resource"], s.ObjectsARN(); got != want {
			t.Errorf("resource %q, want %q", got, want)
		}
	}
}

func TestRenderRefusesInvalidSetupBeforeRendering(t *testing.T) {
	s := sample()
	s.KeyPrefix = "*/"
	if _, err := Render(s); err == nil {
		t.Fatal("a wildcard prefix rendered")
	}
}

func TestEqualComparesByMeaning(t *testing.T) {
	base := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/p/*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::1:role/r"}]}`
	same := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole"],"Resource":["arn:aws:iam::1:role/r"]},{"Effect":"Allow","Action":["s3:putobject"],"Resource":"arn:aws:s3:::b/p/*"}]}`,
		url.PathEscape(base),
		url.QueryEscape(base),
		"\n  " + base + "\n",
	}
	for _, s := range same {
		eq, err := Equal(base, s)
		if err != nil || !eq {
			t.Errorf("Equal(base, %s) = %v, %v; want true", s, eq, err)
		}
	}
	different := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/p/*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::1:role/r"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::1:role/r"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/p/*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::1:role/r"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/p/*"}]}`,
	}
	for _, d := range different {
		eq, err := Equal(base, d)
		if err != nil || eq {
			t.Errorf("Equal(base, %s) = %v, %v; want false", d, eq, err)
		}
	}
}

func TestTrustPolicyWithEmptyResourceEqualsOneWithout(t *testing.T) {
	docs, _ := Render(sample())
	returned := url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/application-user"},"Action":["sts:AssumeRole"],"Resource":[""]}]}`)
	if eq, err := Equal(docs.Trust, returned); err != nil || !eq {
		t.Fatalf("Equal = %v, %v; want true", eq, err)
	}
	// A deleted user shows up as its unique ID: that is a different principal.
	stale := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAEXAMPLEUNIQUEID"},"Action":"sts:AssumeRole"}]}`
	if eq, _ := Equal(docs.Trust, stale); eq {
		t.Fatal("a trust policy naming a stale unique ID compared equal")
	}
}

func TestDiffShowsTheChangedLines(t *testing.T) {
	docs, _ := Render(sample())
	widened := strings.Replace(docs.RolePolicy, "uploads/*", "*", 1)
	diff, err := Diff(widened, docs.RolePolicy)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(diff, `- `) || !strings.Contains(diff, `"arn:aws:s3:::my-bucket/*"`) || !strings.Contains(diff, `+ `) || !strings.Contains(diff, "uploads/*") {
		t.Fatalf("diff does not show the change:\n%s", diff)
	}
	if d, _ := Diff(docs.RolePolicy, docs.RolePolicy); d != "" {
		t.Fatalf("diff of equal documents: %q", d)
	}
}

func TestCheckSizeCountsWithoutWhitespace(t *testing.T) {
	doc := `{"a": "` + strings.Repeat("x", 100) + `"}`
	if err := CheckSize(doc, 200); err != nil {
		t.Fatal(err)
	}
	if err := CheckSize(doc, 50); err == nil || !strings.Contains(err.Error(), "IAM allows 50") {
		t.Fatalf("want a size error, got %v", err)
	}
}

// FuzzRender: whatever the names and prefix, Render either refuses them or produces
// valid JSON that grants exactly the setup's own resources.
func FuzzRender(f *testing.F) {
	f.Add("application-user", "application-role", "my-bucket", "uploads/")
	f.Add(`a"b`, "r", "b_b", "x*/")
	f.Add("{{.UserARN}}", "r\n", "B", "${x}/")
	f.Add("u", "r", "bkt", "é\"\\/")
	f.Fuzz(func(t *testing.T, user, role, bucket, prefix string) {
		s := sample()
		s.UserName, s.RoleName, s.Bucket, s.KeyPrefix = user, role, bucket, prefix
		docs, err := Render(s)
		if err != nil {
			return
		}
		for _, d := range []string{docs.UserPolicy, docs.RolePolicy, docs.Trust} {
			if !json.Valid([]byte(d)) {
				t.Fatalf("invalid JSON:\n%s", d)
			}
		}
		st := grants(t, docs.RolePolicy)
		if len(st) != 1 || st[0]["Resource"] != s.ObjectsARN() {
			t.Fatalf("role policy widened: %v", st)
		}
		if strings.ContainsAny(prefix, "*?") || strings.Contains(prefix, "${") {
			t.Fatalf("a widening prefix %q was accepted", prefix)
		}
		st = grants(t, docs.UserPolicy)
		if len(st) != 1 || st[0]["Resource"] != s.RoleARN() {
			t.Fatalf("user policy widened: %v", st)
		}
	})
}

// FuzzNormalize: comparison never panics, is reflexive, and survives URL-encoding.
func FuzzNormalize(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"AWS":["a","b"]},"Action":"sts:AssumeRole","Resource":[""]}}`)
	f.Add(`{"Statement":[1,2]}`)
	f.Add(`%7B%22Statement%22%3A%5B%5D%7D`)
	f.Fuzz(func(t *testing.T, doc string) {
		n, err := Normalize(doc)
		if err != nil {
			return
		}
		if eq, err := Equal(doc, doc); err != nil || !eq {
			t.Fatalf("not equal to itself: %v", err)
		}
		if !json.Valid([]byte(n)) {
			t.Fatalf("normal form is not JSON: %s", n)
		}
		if eq, err := Equal(doc, url.PathEscape(n)); err != nil || !eq {
			t.Fatalf("URL-encoded normal form differs: %v", err)
		}
	})
}
