package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/setup"
)

func sample() (setup.Setup, policydoc.Documents) {
	s := setup.Setup{Partition: "aws", Account: "123456789012", Bucket: "my-bucket", KeyPrefix: "uploads/",
		UserName: "application-user", RoleName: "application-role", UserPolicyName: "assume-role-policy",
		RolePolicyName: "allow-put-s3-object", MaxSessionDuration: 3600}
	docs, err := policydoc.Render(s)
	if err != nil {
		panic(err)
	}
	return s, docs
}

// inSync is what a complete setup looks like, with ARNs formatted the way one
// AWS-compatible endpoint returns them (no account).
func inSync(s setup.Setup, docs policydoc.Documents) Observed {
	return Observed{
		User:       Entity{Exists: true, Tagged: true, Attached: []string{"arn:aws:iam:::policy/" + s.UserPolicyName}},
		UserPolicy: Entity{Exists: true, Tagged: true, Document: docs.UserPolicy},
		RolePolicy: Entity{Exists: true, Tagged: true, Document: docs.RolePolicy},
		Role:       Entity{Exists: true, Tagged: true, Document: docs.Trust, MaxSess: 3600, Attached: []string{s.RolePolicyARN()}},
		Keys:       []Key{{ID: "AKIASTORED", Status: "Active", Created: time.Now()}},
	}
}

func TestBuildInSyncHasNothingPending(t *testing.T) {
	s, docs := sample()
	p := Build(s, docs, inSync(s, docs), Local{StoredKeyID: "AKIASTORED"})
	if p.Pending() {
		for _, st := range p.Steps {
			t.Logf("%s: %s %s", st.ID, st.State, st.Reason)
		}
		t.Fatal("an in-sync setup has pending steps")
	}
}

func TestBuildFreshCreatesEverything(t *testing.T) {
	s, docs := sample()
	p := Build(s, docs, Observed{}, Local{})
	for _, id := range []string{StepUser, StepUserPolicy, StepUserAttachment, StepRolePolicy, StepRole, StepRoleAttachment, StepAccessKey} {
		if st := p.Step(id); st.State != Create {
			t.Errorf("%s: %s, want create", id, st.State)
		}
	}
}

func TestBuildDetectsDrift(t *testing.T) {
	s, docs := sample()
	cases := []struct {
		name  string
		drift func(*Observed)
		step  string
		want  State
		text  string
	}{
		{"role policy widened", func(o *Observed) {
			o.RolePolicy.Document = strings.Replace(docs.RolePolicy, "uploads/*", "*", 1)
		}, StepRolePolicy, Update, "my-bucket/*"},
		{"trust names a deleted user", func(o *Observed) {
			o.Role.Document = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAOLDUSER"},"Action":"sts:AssumeRole"}]}`
		}, StepRole, Update, "AIDAOLDUSER"},
		{"max session changed", func(o *Observed) { o.Role.MaxSess = 7200 }, StepRole, Update, "7200"},
		{"user policy detached", func(o *Observed) { o.User.Attached = nil }, StepUserAttachment, Create, ""},
		{"extra policy on the role", func(o *Observed) {
			o.Role.Attached = append(o.Role.Attached, "arn:aws:iam::aws:policy/AmazonS3FullAccess")
		}, StepExtraPermissions, Update, "AmazonS3FullAccess"},
		{"inline policy on the user", func(o *Observed) { o.User.Inline = []string{"sneaky"} }, StepExtraPermissions, Update, "sneaky"},
		{"inline policy on the role", func(o *Observed) { o.Role.Inline = []string{"sneaky-role"} }, StepExtraPermissions, Update, "sneaky-role"},
		{"user in a group", func(o *Observed) { o.User.Groups = []string{"admins"} }, StepExtraPermissions, Update, "group admins"},
		{"permissions boundary", func(o *Observed) { o.User.Boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess" }, StepExtraPermissions, Update, "boundary"},
		{"console password", func(o *Observed) { o.User.LoginProfile = true }, StepExtraPermissions, Update, "console password"},
		{"unknown second key", func(o *Observed) {
			o.Keys = append(o.Keys, Key{ID: "AKIASOMEONE", Status: "Active", Created: time.Now()})
		}, StepUnknownKeys, Blocked, "AKIASOMEONE"},
		{"stored key deleted", func(o *Observed) { o.Keys = nil }, StepAccessKey, Create, "no longer exists"},
		{"stored key deactivated", func(o *Observed) { o.Keys[0].Status = "Inactive" }, StepAccessKey, Create, "never re-activates"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := inSync(s, docs)
			c.drift(&o)
			st := Build(s, docs, o, Local{StoredKeyID: "AKIASTORED"}).Step(c.step)
			if st.State != c.want {
				t.Fatalf("%s: %s (%s), want %s", c.step, st.State, st.Reason, c.want)
			}
			all := st.Reason + st.Diff + strings.Join(st.Details, " ")
			if !strings.Contains(all, c.text) {
				t.Fatalf("step does not mention %q: %s", c.text, all)
			}
		})
	}
}

func TestBuildLeavesUnmanagedEntitiesAlone(t *testing.T) {
	s, docs := sample()
	o := inSync(s, docs)
	o.User.Tagged = false
	p := Build(s, docs, o, Local{StoredKeyID: "AKIASTORED"})
	user := p.Step(StepUser)
	if user.State != NotManaged || !strings.Contains(user.Fix, "--adopt") || len(user.Details) == 0 {
		t.Fatalf("user step = %+v", user)
	}
	if p.Step(StepAccessKey).State != Blocked || p.Step(StepUserAttachment).State == Create {
		t.Fatal("steps on an unmanaged user are not held back")
	}
	// Recorded locally (an endpoint that cannot tag) counts as managed.
	p = Build(s, docs, o, Local{StoredKeyID: "AKIASTORED", Managed: func(kind, name string) bool { return kind == "user" }})
	if p.Step(StepUser).State != InSync {
		t.Fatal("a locally recorded user is not treated as managed")
	}
	p = Build(s, docs, o, Local{StoredKeyID: "AKIASTORED", Adopt: true})
	if st := p.Step(StepUser); st.State != Update || !st.Adopt {
		t.Fatalf("--adopt: %+v", st)
	}
}

func TestBuildAtTheTwoKeyLimitAsksWhichKey(t *testing.T) {
	s, docs := sample()
	o := inSync(s, docs)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o.Keys = []Key{{ID: "AKIAONE", Status: "Active", Created: created}, {ID: "AKIATWO", Status: "Inactive", Created: created}}
	st := Build(s, docs, o, Local{}).Step(StepAccessKey)
	if st.State != Blocked || !strings.Contains(st.Fix, "--replace-key") {
		t.Fatalf("at the limit: %+v", st)
	}
	if details := strings.Join(st.Details, "\n"); !strings.Contains(details, "AKIAONE") || !strings.Contains(details, "2026-01-02T03:04:05Z") {
		t.Fatalf("keys and dates not listed: %s", details)
	}
	st = Build(s, docs, o, Local{ReplaceKey: "AKIATWO"}).Step(StepAccessKey)
	if st.State != Create || !strings.Contains(strings.Join(st.Details, " "), "delete AKIATWO") {
		t.Fatalf("--replace-key: %+v", st)
	}
}

func TestOrphansAreOnlyKeysCreatedAfterAnIntent(t *testing.T) {
	started := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	keys := []Key{
		{ID: "AKIAOLD", Created: started.Add(-24 * time.Hour)},
		{ID: "AKIASTORED", Created: started.Add(time.Second)},
		{ID: "AKIAORPHAN", Created: started.Add(2 * time.Second)},
	}
	got := Orphans(keys, Local{StoredKeyID: "AKIASTORED", KeyIntents: []time.Time{started}})
	if len(got) != 1 || got[0].ID != "AKIAORPHAN" {
		t.Fatalf("orphans = %v", got)
	}
	if got := Orphans(keys, Local{StoredKeyID: "AKIASTORED"}); len(got) != 0 {
		t.Fatalf("without an intent no key is an orphan, got %v", got)
	}
}

func TestSameEntityComparesARNsByParts(t *testing.T) {
	cases := []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::123456789012:policy/p", true},
		{"arn:aws:iam:::policy/p", true},             // endpoint without the account
		{"arn:aws:iam::123456789012:policy/P", true}, // IAM ignores case
		{"arn:aws:iam::123456789012:policy/path/p", true},
		{"arn:aws:iam::999999999999:policy/p", false},
		{"arn:aws-cn:iam::123456789012:policy/p", false},
		{"arn:aws:iam::123456789012:policy/p2", false},
		{"arn:aws:iam::123456789012:role/p", false},
		{"not an arn", false},
	}
	for _, c := range cases {
		if got := SameEntity(c.arn, "aws", "123456789012", "policy", "p"); got != c.want {
			t.Errorf("SameEntity(%s) = %v, want %v", c.arn, got, c.want)
		}
	}
}

func TestBuildMoreDrift(t *testing.T) {
	s, docs := sample()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	o := inSync(s, docs)
	o.Keys[0].Created = now.Add(-100 * 24 * time.Hour)
	st := Build(s, docs, o, Local{StoredKeyID: "AKIASTORED", Now: now, MaxKeyAge: 90 * 24 * time.Hour}).Step(StepAccessKey)
	if st.State != InSync || !strings.Contains(st.Warning, "100 days old") {
		t.Errorf("old key: %+v", st)
	}

	o = inSync(s, docs)
	st = Build(s, docs, o, Local{StoredKeyID: "AKIASTORED", StoredKeyBad: "SignatureDoesNotMatch"}).Step(StepAccessKey)
	if st.State != Create || !strings.Contains(strings.Join(st.Details, " "), "delete AKIASTORED") {
		t.Errorf("bad stored secret: %+v", st)
	}

	o = inSync(s, docs)
	o.Keys = append(o.Keys, Key{ID: "AKIASOMEONE", Status: "Active"})
	st = Build(s, docs, o, Local{StoredKeyID: "AKIASTORED", DeleteKey: "AKIASOMEONE"}).Step(StepUnknownKeys)
	if st.State != Update || len(st.Operations) != 1 {
		t.Errorf("--delete-key: %+v", st)
	}

	st = Build(s, docs, inSync(s, docs), Local{StoredKeyID: "AKIASTORED", TooOpen: []string{"/x/credentials (0644)"}}).Step(StepProfiles)
	if st.State != Update || !strings.Contains(st.Reason, "0644") {
		t.Errorf("wide credentials file: %+v", st)
	}
}
