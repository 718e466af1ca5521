package resilience_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamwizard/iamwizard/internal/creds"
)

// Secrets never leave the credentials file: a full setup in text and JSON, plain and
// failing verifies, and their error messages never print the secret access key or a
// session token, and the settings file holds neither. The proxy records every secret
// and session token in the answers it passes on (CreateAccessKey, AssumeRole), so the
// search covers keys and sessions the outputs could have picked up anywhere.
func TestNoSecretOrSessionTokenInAnyOutput(t *testing.T) {
	f := newFixture(t)
	f.mustApply(t, append([]string{"--output", "json"}, f.flags()...)...)
	f.mustApply(t) // text, in sync
	if code, _, _ := f.run(t, "verify", "--output", "json"); code != 0 {
		t.Fatal("verify of a fresh setup failed")
	}
	// Break the trust policy: a failing verify, in text and JSON, with its errors.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/someone-else"},"Action":"sts:AssumeRole"}]}`
	if _, err := f.env.IAM().UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: &f.role, PolicyDocument: &trust}); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"text", "json"} {
		if code, _, _ := f.run(t, "verify", "--output", output, "--propagation-timeout", "1s"); code == 0 {
			t.Fatalf("verify --output %s passed with a broken trust policy", output)
		}
	}
	// A stored secret that no longer matches its key: AWS's error message is printed.
	stored := readFile(t, f.credentialsFile())
	secret := f.storedSecret(t, "application-user")
	wrong := strings.ToUpper(secret[:20]) + secret[20:]
	f.secrets.add(wrong, "corrupted SecretAccessKey")
	if err := os.WriteFile(f.credentialsFile(), []byte(strings.Replace(stored, secret, wrong, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"text", "json"} {
		if code, _, _ := f.run(t, "verify", "--output", output, "--propagation-timeout", "1s"); code == 0 {
			t.Fatalf("verify --output %s passed with a wrong secret", output)
		}
	}
	if err := os.WriteFile(f.credentialsFile(), []byte(stored), 0o600); err != nil {
		t.Fatal(err)
	}
	sections := stored
	if f.secrets.count("SecretAccessKey") == 0 || f.secrets.count("SessionToken") == 0 {
		t.Fatalf("the proxy saw %d secret keys and %d session tokens: the search would prove nothing",
			f.secrets.count("SecretAccessKey"), f.secrets.count("SessionToken"))
	}
	// The credentials file is the one place the secret belongs.
	if len(f.secrets.find("the credentials file", sections)) == 0 {
		t.Fatal("the stored secret is not among the secrets the proxy saw")
	}
	// Every output and the settings file (a cleanup of every fixture checks this too).
	f.assertNoSecretLeaked(t)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// storedSecret is the secret access key of the profile in the credentials file.
func (f *fixture) storedSecret(t *testing.T, profile string) string {
	t.Helper()
	sections, err := creds.Read(f.credentialsFile())
	if err != nil || len(sections[profile]["aws_secret_access_key"]) < 21 {
		t.Fatalf("no usable secret stored for [%s]: %v", profile, err)
	}
	return sections[profile]["aws_secret_access_key"]
}
