package apply

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// fakeIAM implements only what a test exercises; any other call panics through the
// nil embedded interface, which shows the test touched more than it meant to.
type fakeIAM struct {
	awsx.IAM
	clock    *fakeClock
	calls    []string
	versions []types.PolicyVersion
	deleted  []string
	// userVisibleAt is when CreateRole stops calling the principal invalid.
	userVisibleAt time.Time
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func (f *fakeIAM) CreatePolicyVersion(_ context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	f.calls = append(f.calls, "CreatePolicyVersion")
	if len(f.versions) >= 5 {
		return nil, apiErr("LimitExceeded", "A managed policy can have up to 5 versions.")
	}
	for i := range f.versions {
		f.versions[i].IsDefaultVersion = false
	}
	f.versions = append(f.versions, types.PolicyVersion{VersionId: aws.String("vNEW"), IsDefaultVersion: true, CreateDate: aws.Time(f.clock.now)})
	return &iam.CreatePolicyVersionOutput{}, nil
}

func (f *fakeIAM) ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	f.calls = append(f.calls, "ListPolicyVersions")
	return &iam.ListPolicyVersionsOutput{Versions: append([]types.PolicyVersion(nil), f.versions...)}, nil
}

func (f *fakeIAM) DeletePolicyVersion(_ context.Context, in *iam.DeletePolicyVersionInput, _ ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	f.calls = append(f.calls, "DeletePolicyVersion")
	id := aws.ToString(in.VersionId)
	for i, v := range f.versions {
		if aws.ToString(v.VersionId) == id {
			if v.IsDefaultVersion {
				return nil, apiErr("DeleteConflict", "Cannot delete the default version")
			}
			f.versions = append(f.versions[:i], f.versions[i+1:]...)
			f.deleted = append(f.deleted, id)
			return &iam.DeletePolicyVersionOutput{}, nil
		}
	}
	return nil, apiErr("NoSuchEntity", "no such version")
}

func (f *fakeIAM) CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.calls = append(f.calls, "CreateRole")
	if f.clock.now.Before(f.userVisibleAt) {
		return nil, apiErr("MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/application-user"`)
	}
	return &iam.CreateRoleOutput{Role: &types.Role{Tags: plan.ManagedTags()}}, nil
}

func setupFor(t *testing.T) (setup.Setup, policydoc.Documents, Deps, *fakeIAM, *event.Recorder) {
	t.Helper()
	s := setup.Setup{Partition: "aws", Account: "123456789012", Bucket: "my-bucket", KeyPrefix: "uploads/",
		UserName: "application-user", RoleName: "application-role", UserPolicyName: "assume-role-policy",
		RolePolicyName: "allow-put-s3-object", MaxSessionDuration: 3600}
	docs, err := policydoc.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	fake := &fakeIAM{clock: clock}
	rec := &event.Recorder{}
	dir := t.TempDir()
	d := Deps{IAM: fake, Store: settings.Store{Path: filepath.Join(dir, "settings.json")}, Clock: clock,
		PropagationTimeout: time.Minute, Sink: rec.Sink(),
		Files: appfiles.Files{CredentialsFile: filepath.Join(dir, "credentials"), ConfigFile: filepath.Join(dir, "config"),
			AppProfile: "application-user", RoleProfile: "application-role", Region: "us-east-1"}}
	return s, docs, d, fake, rec
}

func TestRepairAtFivePolicyVersionsDeletesTheOldestNonDefaultFirst(t *testing.T) {
	s, docs, d, fake, _ := setupFor(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// v3 is the oldest non-default; v1 is older but the default (it must survive).
	fake.versions = []types.PolicyVersion{
		{VersionId: aws.String("v1"), IsDefaultVersion: true, CreateDate: aws.Time(base)},
		{VersionId: aws.String("v2"), CreateDate: aws.Time(base.Add(3 * time.Hour))},
		{VersionId: aws.String("v3"), CreateDate: aws.Time(base.Add(1 * time.Hour))},
		{VersionId: aws.String("v4"), CreateDate: aws.Time(base.Add(4 * time.Hour))},
		{VersionId: aws.String("v5"), CreateDate: aws.Time(base.Add(2 * time.Hour))},
	}
	p := plan.Plan{Setup: s, Steps: []plan.Step{{ID: plan.StepRolePolicy, Title: "role policy", State: plan.Update,
		Operations: []string{"iam:CreatePolicyVersion"}}}}
	if _, err := Run(context.Background(), d, p, docs); err != nil {
		t.Fatal(err)
	}
	if len(fake.deleted) != 1 || fake.deleted[0] != "v3" {
		t.Fatalf("deleted %v, want [v3]", fake.deleted)
	}
	if got := strings.Join(fake.calls, ","); got != "CreatePolicyVersion,ListPolicyVersions,DeletePolicyVersion,CreatePolicyVersion" {
		t.Fatalf("calls: %s", got)
	}
	if len(fake.versions) != 5 || !fake.versions[4].IsDefaultVersion {
		t.Fatalf("versions after repair: %+v", fake.versions)
	}
}

func TestCreateRoleWaitsUntilTheNewUserIsVisible(t *testing.T) {
	s, docs, d, fake, rec := setupFor(t)
	start := fake.clock.now
	fake.userVisibleAt = start.Add(7 * time.Second)
	p := plan.Plan{Setup: s, Steps: []plan.Step{{ID: plan.StepRole, Title: "role", State: plan.Create}}}
	if _, err := Run(context.Background(), d, p, docs); err != nil {
		t.Fatal(err)
	}
	if over := fake.clock.now.Sub(fake.userVisibleAt); over > awsx.DefaultBackoff.Max {
		t.Fatalf("returned %s after the user became visible", over)
	}
	waits := 0
	for _, e := range rec.Events() {
		if e.Kind == event.Wait && strings.Contains(e.Message, "waiting for IAM to propagate") {
			waits++
		}
	}
	if waits == 0 {
		t.Fatal("the wait was not shown")
	}
}

func TestCreateRoleForAUserThatNeverAppearsFailsClearly(t *testing.T) {
	s, docs, d, fake, _ := setupFor(t)
	fake.userVisibleAt = fake.clock.now.Add(time.Hour)
	d.PropagationTimeout = 20 * time.Second
	p := plan.Plan{Setup: s, Steps: []plan.Step{{ID: plan.StepRole, Title: "role", State: plan.Create}}}
	_, err := Run(context.Background(), d, p, docs)
	var fe *awsx.FixError
	if !errors.As(err, &fe) || !strings.Contains(fe.Summary, "really does not exist") || !strings.Contains(fe.Fix, "--propagation-timeout") {
		t.Fatalf("err = %v", err)
	}
	if fake.clock.now.Sub(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) > 20*time.Second {
		t.Fatal("waited past the propagation timeout")
	}
}

// repairIAM records the repairs of drift the emulator cannot show (a permissions
// boundary, a console password, the role's maximum session).
type repairIAM struct {
	awsx.IAM
	calls []string
}

func (f *repairIAM) DeleteUserPermissionsBoundary(_ context.Context, in *iam.DeleteUserPermissionsBoundaryInput, _ ...func(*iam.Options)) (*iam.DeleteUserPermissionsBoundaryOutput, error) {
	f.calls = append(f.calls, "DeleteUserPermissionsBoundary "+aws.ToString(in.UserName))
	return &iam.DeleteUserPermissionsBoundaryOutput{}, nil
}

func (f *repairIAM) DeleteLoginProfile(_ context.Context, in *iam.DeleteLoginProfileInput, _ ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error) {
	f.calls = append(f.calls, "DeleteLoginProfile "+aws.ToString(in.UserName))
	return &iam.DeleteLoginProfileOutput{}, nil
}

func (f *repairIAM) UpdateRole(_ context.Context, in *iam.UpdateRoleInput, _ ...func(*iam.Options)) (*iam.UpdateRoleOutput, error) {
	f.calls = append(f.calls, "UpdateRole "+aws.ToString(in.RoleName)+" "+strconv.Itoa(int(aws.ToInt32(in.MaxSessionDuration))))
	return &iam.UpdateRoleOutput{}, nil
}

func TestDriftTheEmulatorCannotShowIsRepaired(t *testing.T) {
	s, docs, d, _, _ := setupFor(t)
	fake := &repairIAM{}
	d.IAM = fake
	o := plan.Observed{
		User:       plan.Entity{Exists: true, Tagged: true, Boundary: "arn:aws:iam::aws:policy/ReadOnlyAccess", LoginProfile: true, Attached: []string{s.UserPolicyARN()}},
		UserPolicy: plan.Entity{Exists: true, Tagged: true, Document: docs.UserPolicy},
		RolePolicy: plan.Entity{Exists: true, Tagged: true, Document: docs.RolePolicy},
		Role:       plan.Entity{Exists: true, Tagged: true, Document: docs.Trust, MaxSess: 7200, Attached: []string{s.RolePolicyARN()}},
		Keys:       []plan.Key{{ID: "AKIASTORED", Status: "Active"}},
	}
	p := plan.Build(s, docs, o, plan.Local{StoredKeyID: "AKIASTORED"})
	// Only the drifted steps are carried out here; the rest are in sync.
	var steps []plan.Step
	for _, st := range p.Steps {
		if st.ID == plan.StepExtraPermissions || st.ID == plan.StepRole {
			steps = append(steps, st)
		}
	}
	p.Steps = steps
	if _, err := Run(context.Background(), d, p, docs); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fake.calls, "; ")
	for _, want := range []string{"DeleteUserPermissionsBoundary application-user", "DeleteLoginProfile application-user", "UpdateRole application-role 3600"} {
		if !strings.Contains(got, want) {
			t.Errorf("repair did not call %s; calls: %s", want, got)
		}
	}
}
