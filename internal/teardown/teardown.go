// Package teardown removes what iamwizard created, and nothing else: entities it
// tagged or recorded, in the order IAM requires (detach, delete non-default versions,
// delete keys, then the user, the role and the policies), its own test objects, and
// its profiles from the shared files with everything else in them kept.
package teardown

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// TestObjectMarker starts the name of every object verify uploads under the prefix.
const TestObjectMarker = ".iamwizard-check-"

// Deps are what a teardown works with.
type Deps struct {
	IAM      awsx.IAM
	S3       awsx.S3
	Store    settings.Store
	Files    appfiles.Files
	Setup    setup.Setup
	Observed plan.Observed
	Sink     event.Sink
	// Owns reports whether iamwizard wrote a section of a shared file.
	Owns func(path, section string) bool
}

// Item is one thing to remove (or to leave alone, with the reason).
type Item struct {
	Kind   string `json:"kind"` // user, role, policy, test-objects, profiles, app-config
	Name   string `json:"name"`
	Remove bool   `json:"remove"`
	Reason string `json:"reason,omitempty"` // why it is left alone
}

// Inventory says what a teardown would remove and what it leaves alone; it makes no call.
func Inventory(d Deps, isManaged func(kind, name string) bool) []Item {
	var items []Item
	add := func(kind, name string, e plan.Entity) {
		switch {
		case !e.Exists:
		case e.Tagged || isManaged(kind, name):
			items = append(items, Item{Kind: kind, Name: name, Remove: true})
		default:
			items = append(items, Item{Kind: kind, Name: name, Reason: "not created by iamwizard: left alone"})
		}
	}
	s := d.Setup
	add("role", s.RoleName, d.Observed.Role)
	add("user", s.UserName, d.Observed.User)
	add("policy", s.UserPolicyName, d.Observed.UserPolicy)
	add("policy", s.RolePolicyName, d.Observed.RolePolicy)
	return items
}

type run struct {
	Deps
	removed         []string
	removedSections [][2]string // path, section
	errs            []error
}

func (r *run) emit(kind event.Kind, op, msg string) {
	r.Sink(event.Event{Step: "destroy", Kind: kind, Operation: op, Message: msg})
}

// do calls one delete; "no such entity" counts as done, a DeleteConflict names what blocks it.
func (r *run) do(op, what string, fn func() error) bool {
	r.emit(event.Call, op, "removing "+what)
	err := fn()
	switch {
	case err == nil, awsx.IsNotFound(err):
		return true
	case awsx.Code(err) == "DeleteConflict":
		r.errs = append(r.errs, &awsx.FixError{Summary: fmt.Sprintf("IAM refuses to delete %s: %s", what, awsx.Message(err)),
			Fix: "remove what still uses it (named above), then run `iamwizard destroy` again", Err: err})
	default:
		r.errs = append(r.errs, awsx.Explain(op, err))
	}
	return false
}

// Run removes every item of the inventory marked Remove, then the test objects and the
// profiles, and forgets the records. A second run finds nothing and changes nothing.
func Run(ctx context.Context, d Deps, items []Item) ([]string, error) {
	if d.Sink == nil {
		d.Sink = event.Discard
	}
	r := &run{Deps: d}
	for _, it := range items {
		if !it.Remove {
			r.emit(event.Skip, "", fmt.Sprintf("%s %s: %s", it.Kind, it.Name, it.Reason))
		}
	}
	remove := func(kind string) bool {
		for _, it := range items {
			if it.Kind == kind && it.Remove {
				return true
			}
		}
		return false
	}
	s := d.Setup
	if remove("role") {
		r.role(ctx)
	}
	if remove("user") {
		r.user(ctx)
	}
	for _, it := range items {
		if it.Kind == "policy" && it.Remove {
			r.policy(ctx, it.Name)
		}
	}
	r.testObjects(ctx)
	r.files(remove("user"))
	if len(r.errs) == 0 {
		err := d.Store.Update(func(st *settings.Settings) {
			for _, it := range items {
				if it.Remove {
					st.Forget(it.Kind, s.Account, it.Name)
				}
			}
			st.KeyIntents = nil
			for _, sec := range r.removedSections {
				st.ForgetSection(sec[0], sec[1])
			}
			var kept []settings.RetiredKey
			for _, k := range st.RetiredKeys {
				if k.User != s.UserName || k.Account != s.Account {
					kept = append(kept, k)
				}
			}
			st.RetiredKeys = kept
		})
		if err != nil {
			r.errs = append(r.errs, err)
		}
	}
	return r.removed, errors.Join(r.errs...)
}

func (r *run) role(ctx context.Context) {
	name := r.Setup.RoleName
	for _, a := range r.Observed.Role.Attached {
		r.do("iam:DetachRolePolicy", "policy "+a+" from role "+name, func() error {
			_, err := r.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: aws.String(a)})
			return err
		})
	}
	for _, p := range r.Observed.Role.Inline {
		r.do("iam:DeleteRolePolicy", "inline policy "+p+" of role "+name, func() error {
			_, err := r.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String(p)})
			return err
		})
	}
	if r.do("iam:DeleteRole", "role "+name, func() error {
		_, err := r.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name})
		return err
	}) {
		r.removed = append(r.removed, "role "+name)
	}
}

func (r *run) user(ctx context.Context) {
	name := r.Setup.UserName
	u := r.Observed.User
	for _, a := range u.Attached {
		r.do("iam:DetachUserPolicy", "policy "+a+" from user "+name, func() error {
			_, err := r.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &name, PolicyArn: aws.String(a)})
			return err
		})
	}
	for _, p := range u.Inline {
		r.do("iam:DeleteUserPolicy", "inline policy "+p+" of user "+name, func() error {
			_, err := r.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: &name, PolicyName: aws.String(p)})
			return err
		})
	}
	for _, g := range u.Groups {
		r.do("iam:RemoveUserFromGroup", "user "+name+" from group "+g, func() error {
			_, err := r.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: &name, GroupName: aws.String(g)})
			return err
		})
	}
	if u.LoginProfile {
		r.do("iam:DeleteLoginProfile", "the console password of user "+name, func() error {
			_, err := r.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: &name})
			return err
		})
	}
	for _, k := range r.Observed.Keys {
		r.do("iam:DeleteAccessKey", "access key "+k.ID, func() error {
			_, err := r.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &name, AccessKeyId: aws.String(k.ID)})
			return err
		})
	}
	if r.do("iam:DeleteUser", "user "+name, func() error {
		_, err := r.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: &name})
		return err
	}) {
		r.removed = append(r.removed, "user "+name)
	}
}

func (r *run) policy(ctx context.Context, name string) {
	arn := r.Setup.ARN("policy", name)
	versions, err := r.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: &arn})
	if err == nil {
		for _, v := range versions.Versions {
			if v.IsDefaultVersion {
				continue
			}
			id := aws.ToString(v.VersionId)
			r.do("iam:DeletePolicyVersion", "version "+id+" of policy "+name, func() error {
				_, err := r.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: &id})
				return err
			})
		}
	} else if !awsx.IsNotFound(err) && !awsx.IsNotImplemented(err) {
		r.errs = append(r.errs, awsx.Explain("iam:ListPolicyVersions", err))
		return
	}
	if r.do("iam:DeletePolicy", "policy "+name, func() error {
		_, err := r.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &arn})
		return err
	}) {
		r.removed = append(r.removed, "policy "+name)
	}
}

// testObjects removes only the objects verify uploaded (and left behind if a run was
// interrupted); never any other object, never the bucket.
func (r *run) testObjects(ctx context.Context) {
	bucket, prefix := r.Setup.Bucket, r.Setup.KeyPrefix+TestObjectMarker
	p := s3.NewListObjectsV2Paginator(r.S3, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awsx.IsNotFound(err) {
			return // the bucket is gone: nothing of ours is left in it
		}
		if err != nil {
			r.errs = append(r.errs, awsx.Explain("s3:ListObjectsV2", err))
			return
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if r.do("s3:DeleteObject", "test object s3://"+bucket+"/"+key, func() error {
				_, err := r.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
				return err
			}) {
				r.removed = append(r.removed, "test object "+key)
			}
		}
	}
}

// files removes the tool's profiles: only sections iamwizard recorded as written by it,
// or (for setups made before it recorded them) that still point at this setup's role.
// The credentials profile goes only with the user, whose key it holds.
func (r *run) files(userRemoved bool) {
	f, s := r.Files, r.Setup
	owned := func(path, section string) bool { return r.Owns != nil && r.Owns(path, section) }
	if userRemoved && owned(f.CredentialsFile, f.AppProfile) {
		r.removeSections(f.CredentialsFile, []string{f.AppProfile})
	}
	cfg, err := creds.Read(f.ConfigFile)
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	pointsHere := plan.SameEntity(cfg["profile "+f.RoleProfile]["role_arn"], s.Partition, s.Account, "role", s.RoleName)
	var names []string
	for _, name := range []string{"profile " + f.AppProfile, "profile " + f.RoleProfile, "services " + f.ServicesName()} {
		if _, exists := cfg[name]; exists && (owned(f.ConfigFile, name) || pointsHere) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		r.removeSections(f.ConfigFile, names)
	}
	if f.AppConfig != "" {
		app, err := creds.Read(f.AppConfig)
		if _, exists := app["AWS"]; err == nil && exists &&
			(owned(f.AppConfig, "AWS") || plan.SameEntity(app["AWS"]["RoleArn"], s.Partition, s.Account, "role", s.RoleName)) {
			r.removeSections(f.AppConfig, []string{"AWS"})
		}
	}
}

func (r *run) removeSections(path string, names []string) {
	res, err := creds.Remove(path, names, creds.Options{})
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("removing profiles from %s: %w", path, err))
		return
	}
	for _, n := range names {
		r.removedSections = append(r.removedSections, [2]string{path, n})
	}
	if res.Changed {
		r.emit(event.Call, "", fmt.Sprintf("removed [%s] from %s; everything else in it is kept", strings.Join(names, "], ["), path))
		r.removed = append(r.removed, "profiles in "+path)
	}
}
