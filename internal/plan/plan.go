// Package plan compares the desired setup with what was observed in AWS and on disk,
// and says for every step whether it is in sync or what apply would do. Observe reads
// AWS; Build is pure, so a plan can be printed, diffed and tested before anything is written.
package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// State is what apply will do about a step.
type State string

// The states of a step.
const (
	InSync     State = "in-sync"     // nothing to do
	Create     State = "create"      // does not exist yet
	Update     State = "update"      // exists, differs from the desired setup
	NotManaged State = "not-managed" // exists, was not created by iamwizard: left alone without --adopt
	Blocked    State = "blocked"     // cannot proceed without the administrator's decision
)

// Step IDs, stable for scripts and tests.
const (
	StepUser             = "user"
	StepUserPolicy       = "user-policy"
	StepUserAttachment   = "user-policy-attachment"
	StepRolePolicy       = "role-policy"
	StepRole             = "role"
	StepRoleAttachment   = "role-policy-attachment"
	StepAccessKey        = "access-key"
	StepProfiles         = "profiles"
	StepAppConfig        = "app-config"
	StepExtraPermissions = "extra-permissions"
)

// Step is one unit of the setup with its planned state.
type Step struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	State      State    `json:"state"`
	Reason     string   `json:"reason,omitempty"`     // why it is not in sync
	Operations []string `json:"operations,omitempty"` // the AWS operations apply will call
	Diff       string   `json:"diff,omitempty"`       // for a changed document: current -> desired
	Document   string   `json:"document,omitempty"`   // the desired document, for review
	Details    []string `json:"details,omitempty"`    // what a person needs to decide (attached policies, keys)
	Fix        string   `json:"fix,omitempty"`        // for not-managed and blocked: what to do
	Adopt      bool     `json:"adopt,omitempty"`      // apply will take over an existing entity (--adopt)
}

// Plan is every step in the order apply carries them out.
type Plan struct {
	Setup    setup.Setup `json:"setup"`
	Steps    []Step      `json:"steps"`
	Warnings []string    `json:"warnings,omitempty"`
}

// Pending reports whether apply has anything to do.
func (p Plan) Pending() bool {
	for _, s := range p.Steps {
		if s.State != InSync {
			return true
		}
	}
	return false
}

// Step returns the step with the id (the zero Step when absent).
func (p Plan) Step(id string) Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return Step{}
}

// Stuck returns the steps apply cannot carry out without a decision.
func (p Plan) Stuck() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.State == NotManaged || s.State == Blocked {
			out = append(out, s)
		}
	}
	return out
}

// Local is what is known on this machine: ownership records and the stored key.
type Local struct {
	Managed      func(kind, name string) bool // recorded as created/adopted by iamwizard
	StoredKeyID  string                       // access key id in the app profile of the credentials file
	KeyIntents   []time.Time                  // CreateAccessKey calls started on this machine for this user whose secret was never stored
	ProfilesDiff []string                     // sections of the shared config that differ
	AppConfig    string                       // path of the application's INI file ("" when not wanted)
	AppConfigOK  bool                         // the application's INI file already holds the desired values
	Adopt        bool                         // --adopt: take over existing entities
	ReplaceKey   string                       // --replace-key: the key the administrator chose to delete at the 2-key limit
}

// MaxKeys is IAM's limit of access keys per user, inactive ones included.
const MaxKeys = 2

// Build compares desired with observed and local state. It makes no calls.
func Build(s setup.Setup, docs policydoc.Documents, o Observed, l Local) Plan {
	p := Plan{Setup: s}
	if s.KeyPrefix == "" {
		p.Warnings = append(p.Warnings, fmt.Sprintf("no --key-prefix: the role may put objects anywhere in bucket %s", s.Bucket))
	}
	managed := func(kind, name string, e Entity) bool {
		return e.Tagged || (l.Managed != nil && l.Managed(kind, name))
	}

	user := entityStep(StepUser, "IAM user "+s.UserName, o.User, managed("user", s.UserName, o.User), l.Adopt,
		[]string{"iam:CreateUser"}, "--user")
	if user.State == NotManaged {
		user.Details = describeAttachments(o.User, len(o.Keys))
	}
	p.Steps = append(p.Steps, user)

	userPolicy := policyStep(StepUserPolicy, "managed policy "+s.UserPolicyName+" (sts:AssumeRole on the role only)",
		o.UserPolicy, docs.UserPolicy, managed("policy", s.UserPolicyName, o.UserPolicy), l.Adopt, "--user-policy")
	p.Steps = append(p.Steps, userPolicy)

	userReady := user.State != NotManaged && userPolicy.State != NotManaged
	p.Steps = append(p.Steps, attachmentStep(StepUserAttachment,
		fmt.Sprintf("attach %s to user %s", s.UserPolicyName, s.UserName), "iam:AttachUserPolicy",
		o.User.Exists && hasPolicy(o.User.Attached, s, s.UserPolicyName), userReady))

	rolePolicy := policyStep(StepRolePolicy, "managed policy "+s.RolePolicyName+" (s3:PutObject on "+s.ObjectsARN()+")",
		o.RolePolicy, docs.RolePolicy, managed("policy", s.RolePolicyName, o.RolePolicy), l.Adopt, "--role-policy")
	p.Steps = append(p.Steps, rolePolicy)

	role := entityStep(StepRole, "IAM role "+s.RoleName+" (trusts only the user)", o.Role,
		managed("role", s.RoleName, o.Role), l.Adopt, []string{"iam:CreateRole"}, "--role")
	role.Document = docs.Trust
	if role.State == NotManaged {
		role.Details = describeAttachments(o.Role, -1)
	}
	if o.Role.Exists && role.State != NotManaged {
		var reasons []string
		if diff, err := policydoc.Diff(o.Role.Document, docs.Trust); err != nil || diff != "" {
			reasons = append(reasons, "the trust policy differs")
			role.Operations = append(role.Operations, "iam:UpdateAssumeRolePolicy")
			role.Diff = diff
			if err != nil {
				role.Diff = "current trust policy cannot be read: " + err.Error()
			}
		}
		if o.Role.MaxSess != s.MaxSessionDuration {
			reasons = append(reasons, fmt.Sprintf("the maximum session is %d s, not %d s", o.Role.MaxSess, s.MaxSessionDuration))
			role.Operations = append(role.Operations, "iam:UpdateRole")
		}
		if len(reasons) > 0 {
			role.State = Update
			role.Reason = joinReasons(role.Reason, strings.Join(reasons, "; "))
		}
	}
	p.Steps = append(p.Steps, role)

	roleReady := role.State != NotManaged && rolePolicy.State != NotManaged
	p.Steps = append(p.Steps, attachmentStep(StepRoleAttachment,
		fmt.Sprintf("attach %s to role %s", s.RolePolicyName, s.RoleName), "iam:AttachRolePolicy",
		o.Role.Exists && hasPolicy(o.Role.Attached, s, s.RolePolicyName), roleReady))

	p.Steps = append(p.Steps, extraPermissionsStep(s, o, user.State != NotManaged, role.State != NotManaged))
	p.Steps = append(p.Steps, keyStep(s, o, l, user.State != NotManaged))

	profiles := Step{ID: StepProfiles, Title: "application profiles in the shared config file", State: InSync}
	if len(l.ProfilesDiff) > 0 {
		profiles.State = Update
		profiles.Reason = "to write: " + strings.Join(l.ProfilesDiff, ", ")
	}
	p.Steps = append(p.Steps, profiles)
	if l.AppConfig != "" {
		app := Step{ID: StepAppConfig, Title: "application config " + l.AppConfig, State: InSync}
		if !l.AppConfigOK {
			app.State = Update
			app.Reason = "[AWS] RoleArn, BucketName and Profile to write"
		}
		p.Steps = append(p.Steps, app)
	}
	return p
}

func joinReasons(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func entityStep(id, title string, e Entity, isManaged, adopt bool, createOps []string, flag string) Step {
	st := Step{ID: id, Title: title}
	switch {
	case !e.Exists:
		st.State, st.Reason, st.Operations = Create, "does not exist", createOps
	case isManaged:
		st.State = InSync
	case adopt:
		st.State, st.Adopt = Update, true
		st.Reason = "exists, not created by iamwizard: --adopt takes it over"
		st.Operations = []string{"iam:Tag*"}
	default:
		st.State = NotManaged
		st.Reason = "exists, not managed by iamwizard"
		st.Fix = fmt.Sprintf("choose another name with %s, or take it over with --adopt (it will then be changed to match)", flag)
	}
	return st
}

func policyStep(id, title string, e Entity, desired string, isManaged, adopt bool, flag string) Step {
	st := entityStep(id, title, e, isManaged, adopt, []string{"iam:CreatePolicy"}, flag)
	st.Document = desired
	if !e.Exists || st.State == NotManaged {
		return st
	}
	diff, err := policydoc.Diff(e.Document, desired)
	if err != nil {
		diff = "current document cannot be read: " + err.Error()
	}
	if diff != "" {
		st.State = Update
		st.Reason = joinReasons(st.Reason, "the document differs")
		st.Diff = diff
		st.Operations = append(st.Operations, "iam:CreatePolicyVersion")
	}
	return st
}

func attachmentStep(id, title, op string, attached, ready bool) Step {
	st := Step{ID: id, Title: title, State: InSync}
	switch {
	case attached:
	case !ready:
		st.State, st.Reason = Blocked, "waits for the entities above, which are not managed by iamwizard"
	default:
		st.State, st.Reason, st.Operations = Create, "not attached", []string{op}
	}
	return st
}

func hasPolicy(attached []string, s setup.Setup, name string) bool {
	return slices.ContainsFunc(attached, func(a string) bool {
		return SameEntity(a, s.Partition, s.Account, "policy", name)
	})
}

// extraPermissionsStep reports access beyond the setup: other policies on the user or
// role widen what the application can do, which defeats the point of the setup.
func extraPermissionsStep(s setup.Setup, o Observed, userOurs, roleOurs bool) Step {
	st := Step{ID: StepExtraPermissions, Title: "no other permissions on the user or the role", State: InSync}
	var extra []string
	if userOurs {
		for _, a := range o.User.Attached {
			if !SameEntity(a, s.Partition, s.Account, "policy", s.UserPolicyName) {
				extra = append(extra, "user "+s.UserName+": managed policy "+a)
			}
		}
		for _, n := range o.User.Inline {
			extra = append(extra, "user "+s.UserName+": inline policy "+n)
		}
	}
	if roleOurs {
		for _, a := range o.Role.Attached {
			if !SameEntity(a, s.Partition, s.Account, "policy", s.RolePolicyName) {
				extra = append(extra, "role "+s.RoleName+": managed policy "+a)
			}
		}
		for _, n := range o.Role.Inline {
			extra = append(extra, "role "+s.RoleName+": inline policy "+n)
		}
	}
	if len(extra) > 0 {
		// Removing someone's grant is a decision for the administrator; the plan names it.
		st.State = Blocked
		st.Reason = "other policies widen the access"
		st.Details = extra
		st.Fix = "detach them in the IAM console or with `aws iam detach-user-policy` / `detach-role-policy` if the application does not need them"
	}
	return st
}

func describeAttachments(e Entity, keys int) []string {
	var d []string
	for _, a := range e.Attached {
		d = append(d, "attached: "+a)
	}
	for _, n := range e.Inline {
		d = append(d, "inline policy: "+n)
	}
	if keys >= 0 {
		d = append(d, fmt.Sprintf("access keys: %d", keys))
	}
	if len(d) == 0 {
		d = append(d, "no policies attached")
	}
	return d
}

// Orphans returns the keys a KeyIntent on this machine created but never stored:
// created at or after an intent and not the stored key.
func Orphans(keys []Key, l Local) []Key {
	var out []Key
	for _, k := range keys {
		if k.ID == l.StoredKeyID {
			continue
		}
		for _, started := range l.KeyIntents {
			// Allow for the clock difference between this machine and AWS.
			if !k.Created.Before(started.Add(-5 * time.Minute)) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func keyStep(s setup.Setup, o Observed, l Local, userOurs bool) Step {
	st := Step{ID: StepAccessKey, Title: "access key of " + s.UserName + ", stored in the credentials file"}
	if !userOurs {
		st.State, st.Reason = Blocked, "waits for the user, which is not managed by iamwizard"
		return st
	}
	create := []string{"iam:CreateAccessKey"}
	if !o.User.Exists {
		st.State, st.Reason, st.Operations = Create, "the user is new", create
		return st
	}
	for _, k := range o.Keys {
		if k.ID == l.StoredKeyID {
			if k.Status == "Active" {
				st.State = InSync
				st.Details = []string{"stored key: " + k.ID}
				return st
			}
			// Someone deactivated it on purpose; turning it back on is their decision.
			st.Reason = fmt.Sprintf("the stored key %s is %s (iamwizard never re-activates a key)", k.ID, k.Status)
		}
	}
	if st.Reason == "" {
		st.Reason = "no key of the user has its secret stored in the credentials file"
		if l.StoredKeyID != "" {
			st.Reason = fmt.Sprintf("the stored key %s no longer exists", l.StoredKeyID)
		}
	}
	orphans := Orphans(o.Keys, l)
	kept := slices.DeleteFunc(slices.Clone(o.Keys), func(k Key) bool { return slices.Contains(orphans, k) })
	for _, k := range orphans {
		st.Operations = append(st.Operations, "iam:DeleteAccessKey")
		st.Details = append(st.Details, fmt.Sprintf("delete %s: created by an interrupted iamwizard run whose secret was never stored", k.ID))
	}
	if len(kept) >= MaxKeys {
		var replace *Key
		for i := range kept {
			if kept[i].ID == l.ReplaceKey {
				replace = &kept[i]
			}
		}
		if replace == nil {
			st.State = Blocked
			st.Reason += fmt.Sprintf("; the user already has %d access keys, IAM's limit", len(kept))
			for _, k := range kept {
				st.Details = append(st.Details, fmt.Sprintf("%s  %s  created %s", k.ID, k.Status, k.Created.UTC().Format(time.RFC3339)))
			}
			st.Fix = "choose the key to delete and re-run with --replace-key KEY_ID (it is deleted before the new one is created; make sure nothing still uses it)"
			if l.ReplaceKey != "" {
				st.Fix = fmt.Sprintf("--replace-key %s is not a key of %s; ", l.ReplaceKey, s.UserName) + st.Fix
			}
			return st
		}
		st.Operations = append(st.Operations, "iam:DeleteAccessKey")
		st.Details = append(st.Details, "delete "+replace.ID+" (--replace-key)")
	}
	st.State = Create
	st.Operations = append(st.Operations, create...)
	return st
}
