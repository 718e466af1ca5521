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
	StepUnknownKeys      = "unknown-keys"
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
	Extra      []Extra  `json:"extra,omitempty"`      // extra-permissions: what apply will remove
	Warning    string   `json:"warning,omitempty"`    // in sync, but worth attention (an old key)
}

// Extra is one grant beyond the setup on the user or the role.
type Extra struct {
	Kind string `json:"kind"` // user-managed, user-inline, user-group, user-boundary, user-login-profile, role-managed, role-inline
	Name string `json:"name"` // policy ARN, inline policy name, group name, boundary ARN
}

// Describe says in words what the extra grant is.
func (e Extra) Describe() string {
	switch e.Kind {
	case "user-managed":
		return "managed policy " + e.Name + " attached to the user"
	case "user-inline":
		return "inline policy " + e.Name + " on the user"
	case "user-group":
		return "the user is a member of group " + e.Name + " (its policies apply to the user)"
	case "user-boundary":
		return "permissions boundary " + e.Name + " on the user"
	case "user-login-profile":
		return "the user has a console password (the application never needs one)"
	case "role-managed":
		return "managed policy " + e.Name + " attached to the role"
	case "role-inline":
		return "inline policy " + e.Name + " on the role"
	}
	return e.Kind + " " + e.Name
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
	DeleteKey    string                       // --delete-key: an unknown key the administrator chose to delete
	Retired      []string                     // keys rotate-key replaced and deactivated, awaiting deletion
	StoredKeyBad string                       // why the stored key's secret does not work ("" when it works or was not tested)
	TooOpen      []string                     // application files others can read, "PATH (MODE)"
	// ForeignCredentials is set when the credentials file already has a section of the
	// app profile's name that iamwizard did not write (and whose key is not the user's).
	ForeignCredentials string
	// ForeignProfiles are sections of the config file or the app config, "[NAME] in PATH",
	// that exist, differ, and were not written by iamwizard.
	ForeignProfiles []string
	Now             time.Time     // for the key's age
	MaxKeyAge       time.Duration // older keys get a warning (0: no check)
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

	rolePolicy := policyStep(StepRolePolicy, "managed policy "+s.RolePolicyName+" (put objects under "+s.ObjectsARN()+", nothing else)",
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
	p.Steps = append(p.Steps, unknownKeysStep(s, o, l, user.State != NotManaged))

	profiles := Step{ID: StepProfiles, Title: "application profiles in the shared config file", State: InSync}
	var why []string
	if len(l.ProfilesDiff) > 0 {
		why = append(why, "to write: "+strings.Join(l.ProfilesDiff, ", "))
	}
	if len(l.TooOpen) > 0 {
		why = append(why, "others can read "+strings.Join(l.TooOpen, ", ")+": tighten to 0600")
		profiles.Operations = append(profiles.Operations, "chmod 600")
	}
	if len(why) > 0 {
		profiles.State = Update
		profiles.Reason = strings.Join(why, "; ")
	}
	if len(l.ForeignProfiles) > 0 {
		if l.Adopt {
			profiles.State, profiles.Adopt = Update, true
			profiles.Reason = joinReasons(profiles.Reason, "taking over "+strings.Join(l.ForeignProfiles, ", ")+" (--adopt; the file is backed up first)")
		} else {
			profiles.State = NotManaged
			profiles.Reason = "exists, not written by iamwizard: " + strings.Join(l.ForeignProfiles, ", ")
			profiles.Fix = "choose other names with --app-profile / --role-profile (or another --config-file / --app-config), or take them over with --adopt"
		}
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

// extraPermissionsStep finds access beyond the setup: other policies, groups, a
// boundary or a console password on the user or role widen (or silently change) what
// the application can do. Apply removes them; the plan names each one, so the
// confirmation (or --yes) names what will be removed.
func extraPermissionsStep(s setup.Setup, o Observed, userOurs, roleOurs bool) Step {
	st := Step{ID: StepExtraPermissions, Title: "no other permissions on the user or the role", State: InSync}
	var extra []Extra
	if userOurs {
		for _, a := range o.User.Attached {
			if !SameEntity(a, s.Partition, s.Account, "policy", s.UserPolicyName) {
				extra = append(extra, Extra{Kind: "user-managed", Name: a})
			}
		}
		for _, n := range o.User.Inline {
			extra = append(extra, Extra{Kind: "user-inline", Name: n})
		}
		for _, g := range o.User.Groups {
			extra = append(extra, Extra{Kind: "user-group", Name: g})
		}
		if o.User.Boundary != "" {
			extra = append(extra, Extra{Kind: "user-boundary", Name: o.User.Boundary})
		}
		if o.User.LoginProfile {
			extra = append(extra, Extra{Kind: "user-login-profile"})
		}
	}
	if roleOurs {
		for _, a := range o.Role.Attached {
			if !SameEntity(a, s.Partition, s.Account, "policy", s.RolePolicyName) {
				extra = append(extra, Extra{Kind: "role-managed", Name: a})
			}
		}
		for _, n := range o.Role.Inline {
			extra = append(extra, Extra{Kind: "role-inline", Name: n})
		}
	}
	if len(extra) == 0 {
		return st
	}
	ops := map[string]string{
		"user-managed": "iam:DetachUserPolicy", "user-inline": "iam:DeleteUserPolicy", "user-group": "iam:RemoveUserFromGroup",
		"user-boundary": "iam:DeleteUserPermissionsBoundary", "user-login-profile": "iam:DeleteLoginProfile",
		"role-managed": "iam:DetachRolePolicy", "role-inline": "iam:DeleteRolePolicy",
	}
	st.State = Update
	st.Reason = "the user or role has access beyond the setup; apply removes it"
	st.Extra = extra
	for _, e := range extra {
		st.Details = append(st.Details, "remove: "+e.Describe())
		if op := ops[e.Kind]; !slices.Contains(st.Operations, op) {
			st.Operations = append(st.Operations, op)
		}
	}
	st.Fix = "if the application really needs more, change the setup's policy instead; iamwizard removes grants that are not part of the setup"
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
	if l.ForeignCredentials != "" && !l.Adopt {
		st.State = NotManaged
		st.Reason = "exists, not written by iamwizard: " + l.ForeignCredentials
		st.Fix = "choose another profile name with --app-profile (or another --credentials-file), or take it over with --adopt (the file is backed up first)"
		return st
	}
	create := []string{"iam:CreateAccessKey"}
	if !o.User.Exists {
		st.State, st.Reason, st.Operations = Create, "the user is new", create
		return st
	}
	for _, k := range o.Keys {
		if k.ID == l.StoredKeyID {
			if k.Status == "Active" && l.StoredKeyBad != "" {
				// The key is ours and useless: replacing it is the repair.
				st.Reason = fmt.Sprintf("the secret stored for key %s does not work (%s)", k.ID, l.StoredKeyBad)
				st.Operations = append(st.Operations, "iam:DeleteAccessKey")
				st.Details = append(st.Details, "delete "+k.ID+": its stored secret is wrong")
				break
			}
			if k.Status == "Active" {
				st.State = InSync
				st.Details = []string{"stored key: " + k.ID}
				if age := l.Now.Sub(k.Created); l.MaxKeyAge > 0 && !k.Created.IsZero() && age > l.MaxKeyAge {
					st.Warning = fmt.Sprintf("the key %s is %d days old (over %d): rotate it with `iamwizard rotate-key`",
						k.ID, int(age.Hours()/24), int(l.MaxKeyAge.Hours()/24))
				}
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
	kept := slices.DeleteFunc(slices.Clone(o.Keys), func(k Key) bool {
		return slices.Contains(orphans, k) || (k.ID == l.StoredKeyID && l.StoredKeyBad != "")
	})
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
				st.Details = append(st.Details, fmt.Sprintf("%s  %s  created %s", k.ID, k.Status, Created(k.Created)))
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

// unknownKeysStep reports keys on the user that iamwizard neither stored nor created:
// someone else's key. iamwizard never deletes one unless the administrator names it.
func unknownKeysStep(s setup.Setup, o Observed, l Local, userOurs bool) Step {
	st := Step{ID: StepUnknownKeys, Title: "no access keys on " + s.UserName + " other than the stored one", State: InSync}
	if !userOurs {
		return st
	}
	orphans := Orphans(o.Keys, l)
	var unknown []Key
	var retired []string
	for _, k := range o.Keys {
		switch {
		case slices.Contains(l.Retired, k.ID):
			retired = append(retired, k.ID)
		case k.ID != l.StoredKeyID && k.ID != l.ReplaceKey && !slices.Contains(orphans, k):
			unknown = append(unknown, k)
		}
	}
	if len(retired) > 0 {
		st.Warning = fmt.Sprintf("the replaced key %s is deactivated and awaits deletion: once the application runs with the current key, run `iamwizard rotate-key --delete-old`", strings.Join(retired, ", "))
	}
	if len(unknown) == 0 {
		return st
	}
	for _, k := range unknown {
		if k.ID == l.DeleteKey {
			st.State = Update
			st.Reason = "deleting " + k.ID + " (--delete-key)"
			st.Operations = []string{"iam:DeleteAccessKey"}
			st.Details = []string{"delete " + k.ID}
			return st
		}
	}
	st.State = Blocked
	st.Reason = "the user has a key iamwizard did not store"
	for _, k := range unknown {
		st.Details = append(st.Details, fmt.Sprintf("%s  %s  created %s", k.ID, k.Status, Created(k.Created)))
	}
	st.Fix = fmt.Sprintf("if nothing uses it, delete it with --delete-key %s; iamwizard never deletes a key it did not create without being told", unknown[0].ID)
	return st
}

// Created formats a key's creation time; some endpoints do not report it.
func Created(t time.Time) string {
	if t.IsZero() {
		return "on an unknown date"
	}
	return t.UTC().Format(time.RFC3339)
}
