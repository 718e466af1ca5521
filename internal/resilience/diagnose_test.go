package resilience_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/creds"
)

// Case 3: an AccessDenied on AssumeRole is diagnosed to the side that is wrong. Each
// branch is produced by breaking a working setup out of band, then running verify.
func TestAssumeRoleDenialIsDiagnosed(t *testing.T) {
	t.Run("trust names another user", func(t *testing.T) {
		f := newFixture(t)
		f.mustApply(t, f.flags()...)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/someone-else"},"Action":"sts:AssumeRole"}]}`
		if _, err := f.env.IAM().UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: &f.role, PolicyDocument: &trust}); err != nil {
			t.Fatal(err)
		}
		f.verifyFails(t, "AssumeRole is denied by the role's side", "does not name arn:aws:iam::000000000000:user/"+f.user, "someone-else", "rewrite the trust policy")
	})
	t.Run("role_arn is a user's ARN", func(t *testing.T) {
		f := newFixture(t)
		f.mustApply(t, f.flags()...)
		userARN := "arn:aws:iam::000000000000:user/" + f.user
		sections, err := creds.Read(f.configFile())
		if err != nil {
			t.Fatal(err)
		}
		role := sections["profile application-role"]
		keys := []creds.KV{{Key: "role_arn", Value: userARN}, {Key: "source_profile", Value: role["source_profile"]},
			{Key: "region", Value: role["region"]}, {Key: "services", Value: role["services"]}}
		if _, err := creds.Apply(f.configFile(), []creds.Section{{Name: "profile application-role", Keys: keys}}, creds.Options{}); err != nil {
			t.Fatal(err)
		}
		// The emulator answers InvalidParameterValue; AWS answers AccessDenied.
		f.verifyFails(t, "role_arn of profile [application-role] is "+userARN+", which is not a role", "write the role's ARN into the profile")
		f.proxy.AddFault(awsproxy.ErrorFault("AWSDeniesAUserARN", awsproxy.ByOperation("AssumeRole"), http.StatusForbidden,
			"AccessDenied", "User: arn:aws:iam::000000000000:user/"+f.user+" is not authorized to perform: sts:AssumeRole on resource: "+userARN, 0))
		f.verifyFails(t, "role_arn of profile [application-role] is "+userARN+", which is not a role", "write the role's ARN into the profile")
	})
	t.Run("the user's side", func(t *testing.T) {
		// The emulator, like AWS inside one account, lets a user the trust policy names
		// assume the role even without a policy of its own; a deny on the user's side
		// (explicit deny, boundary, SCP) is what AWS answers with AccessDenied here.
		f := newFixture(t)
		f.mustApply(t, f.flags()...)
		f.proxy.AddFault(awsproxy.ErrorFault("UserSideDeny", awsproxy.ByOperation("AssumeRole"), http.StatusForbidden,
			"AccessDenied", "User: arn:aws:iam::000000000000:user/"+f.user+" is not authorized to perform: sts:AssumeRole with an explicit deny", 0))
		f.verifyFails(t, "AssumeRole is denied by the user's side", "permissions boundary")
	})
}

// verifyFails runs verify and asserts it fails with the assume-role check saying wants.
func (f *fixture) verifyFails(t *testing.T, wants ...string) {
	t.Helper()
	code, out, errs := f.run(t, "verify", "--propagation-timeout", "1s")
	text := f.secrets.redact(out + errs)
	if code == 0 {
		t.Fatalf("verify passed:\n%s", text)
	}
	contains(t, "verify's output", text, wants...)
	if t.Failed() {
		t.Log(text)
	}
}
