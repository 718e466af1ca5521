package resilience_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/creds"
)

// Case 5: the user has IAM's 2 keys and none of them is stored here. A run without
// a terminal must not crash and must not delete a key on its own: it exits non-zero,
// lists both keys with their dates and names --replace-key. With --replace-key KEY
// exactly that key is deleted and a new one stored.
func TestTwoKeysWithoutAStoredOneNeedTheAdministratorsChoice(t *testing.T) {
	f := newFixture(t)
	f.mustApply(t, f.flags()...)
	ctx := context.Background()
	first := f.storedKey(t, "application-user")
	// A second key made elsewhere, and this machine loses its copy of the first.
	second, err := f.env.IAM().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &f.user})
	if err != nil {
		t.Fatal(err)
	}
	secondID := *second.AccessKey.AccessKeyId
	f.secrets.add(*second.AccessKey.SecretAccessKey, "out-of-band SecretAccessKey")
	if _, err := creds.Remove(f.credentialsFile(), []string{"application-user"}, creds.Options{}); err != nil {
		t.Fatal(err)
	}

	f.proxy.Reset()
	code, out, errs := f.run(t, "apply", "--yes")
	text := f.secrets.redact(out + errs)
	if code == 0 || strings.Contains(text, "panic") || strings.Contains(text, "goroutine ") {
		t.Fatalf("apply at the key limit exited %d:\n%s", code, text)
	}
	for _, id := range []string{first, secondID} {
		if !slices.ContainsFunc(strings.Split(text, "\n"), func(l string) bool {
			return strings.Contains(l, id) && createdDate.MatchString(l)
		}) {
			t.Errorf("the key %s is not listed with its creation date", id)
		}
	}
	contains(t, "apply's output", text, "--replace-key")
	if deletes := f.proxy.Count(func(c awsproxy.Call) bool {
		return c.Operation == "DeleteAccessKey" || c.Operation == "CreateAccessKey"
	}); deletes != 0 {
		t.Fatalf("%d key writes without the administrator's choice", deletes)
	}
	if got := f.keys(t, f.user); len(got) != 2 {
		t.Fatalf("keys after the refused run: %v", got)
	}
	if t.Failed() {
		t.Log(text)
	}

	f.proxy.Reset()
	// Another step may still ask about the second key (it is not iamwizard's), so
	// the exit code is not the point here: the key step and the checks are.
	_, out, errs = f.run(t, "apply", "--yes", "--replace-key", first)
	text = f.secrets.redact(out + errs)
	contains(t, "apply --replace-key's output", text, "Changed: access-key", "All checks passed")
	got := f.keys(t, f.user)
	stored := f.storedKey(t, "application-user")
	if len(got) != 2 || slices.Contains(got, first) || !slices.Contains(got, secondID) || !slices.Contains(got, stored) {
		t.Errorf("after --replace-key: keys %v, stored %s; want the second key kept and a new stored one", got, stored)
	}
	if n := f.proxy.Count(func(c awsproxy.Call) bool { return c.Operation == "DeleteAccessKey" }); n != 1 {
		t.Errorf("%d DeleteAccessKey calls, want exactly 1", n)
	}
	if t.Failed() {
		t.Log(text)
	}
}

// createdDate is a creation date as the plan lists it.
var createdDate = regexp.MustCompile(`created 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
