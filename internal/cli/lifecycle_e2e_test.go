package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

type check struct {
	ID      string
	OK      bool
	Skipped bool
	Warning bool
	Message string
	Fix     string
}

// verifyJSON runs verify --output json and returns its exit code and checks by ID.
func (f *fixture) verifyJSON(t *testing.T, args ...string) (int, map[string]check) {
	t.Helper()
	code, out, _ := f.run(t, append([]string{"verify", "--output", "json"}, args...)...)
	var doc struct{ Verify struct{ Checks []check } }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("verify JSON: %v\n%s", err, out)
	}
	checks := map[string]check{}
	for _, c := range doc.Verify.Checks {
		checks[c.ID] = c
	}
	return code, checks
}

func (f *fixture) storedKey(t *testing.T) string {
	t.Helper()
	sections, err := creds.Read(f.credentialsFile())
	if err != nil {
		t.Fatal(err)
	}
	return sections["application-user"]["aws_access_key_id"]
}

func (f *fixture) keys(t *testing.T) map[string]string {
	t.Helper()
	out, err := f.env.IAM().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: &f.user})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, k := range out.AccessKeyMetadata {
		keys[aws.ToString(k.AccessKeyId)] = string(k.Status)
	}
	return keys
}

func TestEveryDriftIsNamedByVerifyAndRepairedByApply(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	ctx := context.Background()
	admin := f.env.IAM()
	acct := "000000000000"
	userPolicyARN := policyARN(f.upol)
	rolePolicyARN := policyARN(f.rpol)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	extraDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + f.bucket + `/*"}]}`

	cases := []struct {
		name     string
		inject   func(t *testing.T)
		checkID  string
		mentions string
		repair   []string // extra apply flags the repair needs (the administrator's decision)
		after    func(t *testing.T)
	}{
		{name: "role policy document widened", checkID: "drift.role-policy", mentions: "the document differs", inject: func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
			must(admin.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &rolePolicyARN, PolicyDocument: &doc, SetAsDefault: true}))
		}},
		{name: "user policy detached", checkID: "drift.user-policy-attachment", mentions: "not attached", inject: func(t *testing.T) {
			must(admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &f.user, PolicyArn: &userPolicyARN}))
		}},
		{name: "role policy detached", checkID: "drift.role-policy-attachment", mentions: "not attached", inject: func(t *testing.T) {
			must(admin.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &f.role, PolicyArn: &rolePolicyARN}))
		}},
		{name: "trust names another user", checkID: "drift.role", mentions: "trust policy differs", inject: func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/intruder"},"Action":"sts:AssumeRole"}]}`
			must(admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &f.role, PolicyDocument: &doc}))
		}},
		{name: "extra managed policy on the role", checkID: "drift.extra-permissions", mentions: "attached to the role", inject: func(t *testing.T) {
			name := testenv.Unique("extra-")
			must(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &name, PolicyDocument: &extraDoc}))
			must(admin.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &f.role, PolicyArn: aws.String(policyARN(name))}))
		}},
		{name: "inline policy on the user", checkID: "drift.extra-permissions", mentions: "inline policy", inject: func(t *testing.T) {
			must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &f.user, PolicyName: aws.String("sneaky"), PolicyDocument: &extraDoc}))
		}},
		{name: "user added to a group", checkID: "drift.extra-permissions", mentions: "member of group", inject: func(t *testing.T) {
			g := testenv.Unique("group-")
			must(admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: &g}))
			must(admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: &g, UserName: &f.user}))
		}},
		{name: "stored key deactivated", checkID: "drift.access-key", mentions: "never re-activates", inject: func(t *testing.T) {
			must(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: &f.user, AccessKeyId: aws.String(f.storedKey(t)), Status: iamtypes.StatusTypeInactive}))
		}, after: func(t *testing.T) {
			// The deactivated key stays deactivated; it is now someone's decision to delete it.
			inactive := 0
			for _, s := range f.keys(t) {
				if s == "Inactive" {
					inactive++
				}
			}
			if inactive != 1 {
				t.Fatalf("keys after repair: %v", f.keys(t))
			}
		}},
		{name: "stored key deleted", checkID: "drift.access-key", mentions: "no longer exists", inject: func(t *testing.T) {
			for id := range f.keys(t) {
				must(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &f.user, AccessKeyId: aws.String(id)}))
			}
		}},
		{name: "stored secret corrupted", checkID: "verify.whoami", mentions: "", inject: func(t *testing.T) {
			id := f.storedKey(t)
			if _, err := creds.Apply(f.credentialsFile(), []creds.Section{{Name: "application-user", Keys: []creds.KV{
				{Key: "aws_access_key_id", Value: id}, {Key: "aws_secret_access_key", Value: "not-the-secret-of-this-key-0000000000000"}}}}, creds.Options{}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "unknown second key", checkID: "drift.unknown-keys", mentions: "did not store", inject: func(t *testing.T) {
			must(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &f.user}))
		}},
		{name: "credentials file readable by others", checkID: "drift.profiles", mentions: "0644", inject: func(t *testing.T) {
			if err := os.Chmod(f.credentialsFile(), 0o644); err != nil {
				t.Fatal(err)
			}
		}, after: func(t *testing.T) {
			if info, _ := os.Stat(f.credentialsFile()); info.Mode().Perm() != 0o600 {
				t.Fatalf("credentials file is %v after repair", info.Mode().Perm())
			}
		}},
		{name: "role deleted", checkID: "drift.role", mentions: "does not exist", inject: func(t *testing.T) {
			must(admin.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &f.role, PolicyArn: &rolePolicyARN}))
			must(admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &f.role}))
		}},
		{name: "user policy deleted", checkID: "drift.user-policy", mentions: "does not exist", inject: func(t *testing.T) {
			must(admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &f.user, PolicyArn: &userPolicyARN}))
			must(admin.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &userPolicyARN}))
		}},
		{name: "user deleted", checkID: "drift.user", mentions: "does not exist", inject: func(t *testing.T) {
			must(admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &f.user, PolicyArn: &userPolicyARN}))
			for id := range f.keys(t) {
				must(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &f.user, AccessKeyId: aws.String(id)}))
			}
			must(admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: &f.user}))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.inject(t)
			code, checks := f.verifyJSON(t)
			got := checks[c.checkID]
			if code != 1 || got.OK || !strings.Contains(got.Message, c.mentions) || (got.Fix == "" && c.mentions != "") {
				t.Fatalf("verify exited %d; %s = %+v", code, c.checkID, got)
			}
			repair := c.repair
			if c.checkID == "drift.unknown-keys" {
				for id := range f.keys(t) {
					if id != f.storedKey(t) {
						repair = []string{"--delete-key", id}
					}
				}
			}
			f.apply(t, repair...)
			if code, checks := f.verifyJSON(t); code != 0 {
				for id, ch := range checks {
					if !ch.OK && !ch.Skipped {
						t.Errorf("after repair %s: %s", id, ch.Message)
					}
				}
				t.Fatalf("verify after repair exited %d", code)
			}
			if c.after != nil {
				c.after(t)
			}
		})
	}
}

func TestVerifyReportsAGoneBucket(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	if _, err := f.env.S3().DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &f.bucket}); err != nil {
		t.Fatal(err)
	}
	code, checks := f.verifyJSON(t)
	if code != 1 || checks["drift.bucket"].OK || !strings.Contains(checks["drift.bucket"].Message, "does not exist") {
		t.Fatalf("verify exited %d: %+v", code, checks)
	}
}

func TestRotateKeyProvesTheNewKeyBeforeRetiringTheOld(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	old := f.storedKey(t)

	code, out, errs := f.run(t, "rotate-key")
	if code != 0 {
		t.Fatalf("rotate-key exited %d:\n%s\n%s", code, out, errs)
	}
	current := f.storedKey(t)
	if current == old || f.keys(t)[old] != "Inactive" || f.keys(t)[current] != "Active" {
		t.Fatalf("after rotation stored %s, keys %v", current, f.keys(t))
	}
	if code, checks := f.verifyJSON(t); code != 0 || !strings.Contains(checks["drift.unknown-keys"].Message, "awaits deletion") {
		t.Fatalf("verify after rotation exited %d: %+v", code, checks["drift.unknown-keys"])
	}
	// At the 2-key limit the retired key is deleted only when the administrator says so.
	if code, _, errs := f.run(t, "rotate-key"); code == 0 || !strings.Contains(errs, "--delete-old") {
		t.Fatalf("second rotation without --delete-old exited %d: %s", code, errs)
	}
	// Once the application was restarted, --delete-old deletes only the retired key: the
	// key the application now holds stays.
	if code, out, errs := f.run(t, "rotate-key", "--delete-old"); code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("rotate-key --delete-old exited %d:\n%s\n%s", code, out, errs)
	}
	if keys := f.keys(t); len(keys) != 1 || f.storedKey(t) != current || keys[current] != "Active" {
		t.Fatalf("after --delete-old: stored %s, keys %v; want only %s", f.storedKey(t), keys, current)
	}
	// With nothing retired, --delete-old rotates and deletes the old key at once.
	if code, out, errs := f.run(t, "rotate-key", "--delete-old"); code != 0 {
		t.Fatalf("rotate-key --delete-old exited %d:\n%s\n%s", code, out, errs)
	}
	if keys := f.keys(t); len(keys) != 1 || f.storedKey(t) == current || keys[f.storedKey(t)] != "Active" {
		t.Fatalf("after a rotation with --delete-old: stored %s, keys %v", f.storedKey(t), keys)
	}

	// A new key that cannot assume the role is undone: the old key stays active and stored.
	before := f.storedKey(t)
	remove := f.proxy.AddFault(awsproxy.ErrorFault("deny-assume", awsproxy.ByOperation("AssumeRole"), 403, "AccessDenied", "not authorized to perform sts:AssumeRole", 0))
	code, _, errs = f.run(t, "rotate-key", "--propagation-timeout", "2s")
	remove()
	if code == 0 || !strings.Contains(errs, "undone") {
		t.Fatalf("a failing rotation exited %d: %s", code, errs)
	}
	if keys := f.keys(t); f.storedKey(t) != before || len(keys) != 1 || keys[before] != "Active" {
		t.Fatalf("after a failed rotation stored %s, keys %v (want only %s, active)", f.storedKey(t), keys, before)
	}
	if code, _ := f.verifyJSON(t); code != 0 {
		t.Fatal("the setup does not verify after a failed rotation")
	}
}

func TestDestroyRemovesOnlyWhatTheToolCreated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.env.IAM()
	// Unrelated things that must survive.
	otherUser, otherRole, otherPolicy := testenv.Unique("other-user-"), testenv.Unique("other-role-"), testenv.Unique("other-policy-")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/` + otherUser + `"},"Action":"sts:AssumeRole"}]}`
	for _, err := range []error{
		func() error { _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: &otherUser}); return err }(),
		func() error {
			_, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &otherRole, AssumeRolePolicyDocument: &trust})
			return err
		}(),
		func() error {
			_, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &otherPolicy, PolicyDocument: &doc})
			return err
		}(),
		func() error {
			_, err := f.env.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String("uploads/keep-me.txt"), Body: strings.NewReader("data")})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(f.home+"/.aws", 0o700); err != nil {
		t.Fatal(err)
	}
	otherProfile := "# the admin's own profile\n[admin]\naws_access_key_id = AKIAADMINEXAMPLE\n"
	if err := os.WriteFile(f.credentialsFile(), []byte(otherProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	f.apply(t, f.firstRunFlags()...)
	// A verify interrupted after its upload leaves a test object behind: destroy removes it.
	leftover := "uploads/.iamwizard-check-20260101T000000Z-abcdef.txt"
	if _, err := f.env.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: &leftover, Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}

	code, out, errs := f.run(t, "destroy")
	if code != 64 || !strings.Contains(errs, "destroy --yes") {
		t.Fatalf("destroy without a terminal or --yes exited %d: %s%s", code, out, errs)
	}
	code, out, errs = f.run(t, "destroy", "--yes")
	if code != 0 {
		t.Fatalf("destroy exited %d:\n%s\n%s", code, out, errs)
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: &f.user}); err == nil {
		t.Error("the tool's user survived destroy")
	}
	if _, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: &f.role}); err == nil {
		t.Error("the tool's role survived destroy")
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: &otherUser}); err != nil {
		t.Errorf("an unrelated user was removed: %v", err)
	}
	if _, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: &otherRole}); err != nil {
		t.Errorf("an unrelated role was removed: %v", err)
	}
	if _, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN(otherPolicy))}); err != nil {
		t.Errorf("an unrelated policy was removed: %v", err)
	}
	if _, err := f.env.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &f.bucket, Key: aws.String("uploads/keep-me.txt")}); err != nil {
		t.Errorf("an unrelated object was removed: %v", err)
	}
	if _, err := f.env.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &f.bucket, Key: &leftover}); err == nil {
		t.Error("a left-over test object survived destroy")
	}
	if got, _ := os.ReadFile(f.credentialsFile()); string(got) != otherProfile {
		t.Errorf("the credentials file lost or kept more than the tool's profile:\n%s", got)
	}

	f.proxy.Reset()
	code, out, _ = f.run(t, "destroy", "--yes")
	if code != 0 || !strings.Contains(out, "Nothing to remove") || len(f.proxy.IAMWrites()) != 0 {
		t.Fatalf("a second destroy exited %d with writes %v:\n%s", code, f.proxy.IAMWrites(), out)
	}
}

func TestDestroyNamesWhatBlocksADelete(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	ctx := context.Background()
	// Someone attached the tool's policy to their own user: IAM refuses to delete it.
	other := testenv.Unique("borrower-")
	if _, err := f.env.IAM().CreateUser(ctx, &iam.CreateUserInput{UserName: &other}); err != nil {
		t.Fatal(err)
	}
	arn := policyARN(f.rpol)
	if _, err := f.env.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &other, PolicyArn: &arn}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := f.run(t, "destroy", "--yes")
	if code == 0 || !strings.Contains(errs, f.rpol) || !strings.Contains(errs, other) {
		t.Fatalf("destroy blocked by an attachment exited %d: %s", code, errs)
	}
	if _, err := f.env.IAM().GetUser(ctx, &iam.GetUserInput{UserName: &other}); err != nil {
		t.Fatal("destroy removed the user that blocked it")
	}
}

func TestProfilesSomeoneElseWroteAreLeftAloneWithoutAdopt(t *testing.T) {
	f := newFixture(t)
	if err := os.MkdirAll(f.home+"/.aws", 0o700); err != nil {
		t.Fatal(err)
	}
	// An administrator's own profiles that happen to have the default names.
	handMade := "[profile application-role]\nrole_arn = arn:aws:iam::000000000000:role/production\nsource_profile = default\n"
	if err := os.WriteFile(f.configFile(), []byte(handMade), 0o600); err != nil {
		t.Fatal(err)
	}
	handKey := "[application-user]\naws_access_key_id = AKIAHANDMADE00000000\naws_secret_access_key = hand-made-secret-that-is-not-real-000000\n"
	if err := os.WriteFile(f.credentialsFile(), []byte(handKey), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := f.run(t, append([]string{"apply", "--yes"}, f.firstRunFlags()...)...)
	if code != 1 || !strings.Contains(out, "not written by iamwizard") || !strings.Contains(errs, "nothing was changed") {
		t.Fatalf("apply over someone's profiles exited %d\n%s\n%s", code, out, errs)
	}
	if len(f.proxy.IAMWrites()) != 0 {
		t.Fatalf("IAM writes while refusing: %v", f.proxy.IAMWrites())
	}
	for path, want := range map[string]string{f.configFile(): handMade, f.credentialsFile(): handKey} {
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Fatalf("%s changed while refusing:\n%s", path, got)
		}
	}
	// --adopt takes them over, keeping a backup of each file first.
	out = f.apply(t, "--adopt")
	if !strings.Contains(out, "All checks passed") || !strings.Contains(out, "iamwizard-backup-") {
		t.Fatalf("apply --adopt:\n%s", out)
	}
	// Invalid choices are usage errors.
	if code, _, _ := f.run(t, "plan", "--bucket", "Not_A_Bucket"); code != 64 {
		t.Fatalf("an invalid bucket name exited %d, want 64", code)
	}
	if code, _, errs := f.run(t, "plan", "--credentials-file", f.home); code != 64 || !strings.Contains(errs, "not a regular file") {
		t.Fatalf("a directory as credentials file exited %d: %s", code, errs)
	}
}

func TestAFailedUploadSkipsTheChecksThatNeedIt(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.firstRunFlags()...)
	arn := policyARN(f.rpol)
	if _, err := f.env.IAM().DetachRolePolicy(context.Background(), &iam.DetachRolePolicyInput{RoleName: &f.role, PolicyArn: &arn}); err != nil {
		t.Fatal(err)
	}
	code, checks := f.verifyJSON(t)
	if code != 1 || checks["verify.upload"].OK {
		t.Fatalf("verify exited %d, upload %+v", code, checks["verify.upload"])
	}
	for _, id := range []string{"verify.read-back", "verify.role-denied-get", "verify.user-denied-put", "verify.cleanup"} {
		if c, ok := checks[id]; !ok || !c.Skipped {
			t.Errorf("%s after a failed upload: %+v (present %v), want skipped", id, c, ok)
		}
	}
	// Unknown arguments are usage errors.
	if code, _, _ := f.run(t, "plan", "nonsense"); code != 64 {
		t.Errorf("plan with a stray argument exited %d, want 64", code)
	}
}
