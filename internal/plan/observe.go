package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// ManagedTagKey and ManagedTagValue mark what iamwizard created.
const (
	ManagedTagKey   = "managed-by"
	ManagedTagValue = "iamwizard"
)

// ManagedTags are the tags put on everything iamwizard creates.
func ManagedTags() []types.Tag {
	return []types.Tag{{Key: aws.String(ManagedTagKey), Value: aws.String(ManagedTagValue)}}
}

// HasManagedTag reports whether the tags mark an entity as iamwizard's.
func HasManagedTag(tags []types.Tag) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == ManagedTagKey && aws.ToString(t.Value) == ManagedTagValue {
			return true
		}
	}
	return false
}

// Entity is what was observed of one user, role or policy.
type Entity struct {
	Exists   bool
	Tagged   bool     // carries managed-by=iamwizard
	Attached []string // ARNs of attached managed policies (users and roles)
	Inline   []string // names of inline policies (users and roles)
	Document string   // policies: the default version's document; roles: the trust policy (decoded)
	Version  string   // policies: the default version id
	MaxSess  int32    // roles: the maximum session duration

	// Users only: access that does not come from policies.
	Boundary     string   // ARN of a permissions boundary ("" for none)
	Groups       []string // names of the groups the user is in
	LoginProfile bool     // the user has a console password
}

// Key is one access key of the user, without any secret.
type Key struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"` // Active or Inactive
	Created time.Time `json:"created"`
}

// Observed is the state of AWS as read before planning.
type Observed struct {
	User, Role, UserPolicy, RolePolicy Entity
	Keys                               []Key
}

// Observe reads every entity of the setup, concurrently where IAM allows. It makes
// only read calls; a missing entity is an observation, not an error.
func Observe(ctx context.Context, client awsx.IAM, s setup.Setup) (Observed, error) {
	var o Observed
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return observeUser(ctx, client, s, &o) })
	g.Go(func() error { return observeRole(ctx, client, s, &o.Role) })
	g.Go(func() error { return observePolicy(ctx, client, s.UserPolicyARN(), &o.UserPolicy) })
	g.Go(func() error { return observePolicy(ctx, client, s.RolePolicyARN(), &o.RolePolicy) })
	return o, g.Wait()
}

func observeUser(ctx context.Context, client awsx.IAM, s setup.Setup, o *Observed) error {
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: &s.UserName})
	if awsx.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return awsx.Explain("iam:GetUser", err)
	}
	o.User.Exists = true
	o.User.Tagged = HasManagedTag(out.User.Tags)
	if out.User.PermissionsBoundary != nil {
		o.User.Boundary = aws.ToString(out.User.PermissionsBoundary.PermissionsBoundaryArn)
	}
	if len(out.User.Tags) == 0 {
		// Not every endpoint returns tags with GetUser; ask for them directly.
		o.User.Tagged = listedUserTag(ctx, client, s.UserName)
	}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		attached, err := listAttachedUser(ctx, client, s.UserName)
		mu.Lock()
		o.User.Attached = attached
		mu.Unlock()
		return err
	})
	g.Go(func() error {
		inline, err := listInlineUser(ctx, client, s.UserName)
		mu.Lock()
		o.User.Inline = inline
		mu.Unlock()
		return err
	})
	g.Go(func() error {
		groups, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: &s.UserName})
		if awsx.IsNotImplemented(err) {
			return nil // an endpoint without groups has none to report
		}
		if err != nil {
			return awsx.Explain("iam:ListGroupsForUser", err)
		}
		mu.Lock()
		for _, gr := range groups.Groups {
			o.User.Groups = append(o.User.Groups, aws.ToString(gr.GroupName))
		}
		mu.Unlock()
		return nil
	})
	g.Go(func() error {
		_, err := client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: &s.UserName})
		switch {
		case err == nil:
			mu.Lock()
			o.User.LoginProfile = true
			mu.Unlock()
		case awsx.IsNotFound(err), awsx.IsNotImplemented(err):
		default:
			return awsx.Explain("iam:GetLoginProfile", err)
		}
		return nil
	})
	g.Go(func() error {
		keys, err := ListKeys(ctx, client, s.UserName)
		mu.Lock()
		o.Keys = keys
		mu.Unlock()
		return err
	})
	return g.Wait()
}

// ListKeys returns the user's access keys, oldest first.
func ListKeys(ctx context.Context, client awsx.IAM, user string) ([]Key, error) {
	var keys []Key
	p := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: &user})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsx.Explain("iam:ListAccessKeys", err)
		}
		for _, k := range page.AccessKeyMetadata {
			keys = append(keys, Key{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
		}
	}
	slices.SortFunc(keys, func(a, b Key) int { return a.Created.Compare(b.Created) })
	return keys, nil
}

func listAttachedUser(ctx context.Context, client awsx.IAM, user string) ([]string, error) {
	var arns []string
	p := iam.NewListAttachedUserPoliciesPaginator(client, &iam.ListAttachedUserPoliciesInput{UserName: &user})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsx.Explain("iam:ListAttachedUserPolicies", err)
		}
		for _, a := range page.AttachedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
		}
	}
	return arns, nil
}

func listInlineUser(ctx context.Context, client awsx.IAM, user string) ([]string, error) {
	out, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: &user})
	if awsx.IsNotImplemented(err) {
		return nil, nil // an endpoint without inline policies has none to report
	}
	if err != nil {
		return nil, awsx.Explain("iam:ListUserPolicies", err)
	}
	return out.PolicyNames, nil
}

func observeRole(ctx context.Context, client awsx.IAM, s setup.Setup, e *Entity) error {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: &s.RoleName})
	if awsx.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return awsx.Explain("iam:GetRole", err)
	}
	e.Exists = true
	e.Tagged = HasManagedTag(out.Role.Tags)
	e.MaxSess = aws.ToInt32(out.Role.MaxSessionDuration)
	if doc, err := policydoc.Decode(aws.ToString(out.Role.AssumeRolePolicyDocument)); err == nil {
		e.Document = doc
	} else {
		e.Document = aws.ToString(out.Role.AssumeRolePolicyDocument)
	}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var arns []string
		p := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: &s.RoleName})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return awsx.Explain("iam:ListAttachedRolePolicies", err)
			}
			for _, a := range page.AttachedPolicies {
				arns = append(arns, aws.ToString(a.PolicyArn))
			}
		}
		mu.Lock()
		e.Attached = arns
		mu.Unlock()
		return nil
	})
	g.Go(func() error {
		out, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &s.RoleName})
		if awsx.IsNotImplemented(err) {
			return nil
		}
		if err != nil {
			return awsx.Explain("iam:ListRolePolicies", err)
		}
		mu.Lock()
		e.Inline = out.PolicyNames
		mu.Unlock()
		return nil
	})
	return g.Wait()
}

func observePolicy(ctx context.Context, client awsx.IAM, policyARN string, e *Entity) error {
	out, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &policyARN})
	if awsx.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return awsx.Explain("iam:GetPolicy", err)
	}
	e.Exists = true
	e.Tagged = HasManagedTag(out.Policy.Tags)
	e.Version = aws.ToString(out.Policy.DefaultVersionId)
	v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &policyARN, VersionId: out.Policy.DefaultVersionId})
	if err != nil {
		return awsx.Explain("iam:GetPolicyVersion", err)
	}
	doc, err := policydoc.Decode(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return fmt.Errorf("policy %s: %w", policyARN, err)
	}
	e.Document = doc
	return nil
}

// SameEntity reports whether an ARN returned by an endpoint names the entity
// KIND/NAME in the account. ARNs are compared by their parts, never as strings:
// AWS-compatible endpoints format them differently (some leave out the account).
func SameEntity(returned, partition, account, kind, name string) bool {
	a, err := arn.Parse(returned)
	if err != nil {
		return false
	}
	if a.Partition != partition || a.Service != "iam" {
		return false
	}
	if a.AccountID != "" && a.AccountID != account {
		return false
	}
	resource := a.Resource
	if !strings.HasPrefix(resource, kind+"/") {
		return false
	}
	// The name is the last path segment; IAM names are unique ignoring case.
	parts := strings.Split(resource, "/")
	return strings.EqualFold(parts[len(parts)-1], name)
}

func listedUserTag(ctx context.Context, client awsx.IAM, user string) bool {
	tags, err := client.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: &user})
	return err == nil && HasManagedTag(tags.Tags)
}

// UserTagged reports whether the user carries the managed-by tag, asking ListUserTags
// when GetUser returns no tags (not every endpoint includes them).
func UserTagged(ctx context.Context, client awsx.IAM, user string) (bool, error) {
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: &user})
	if err != nil {
		return false, awsx.Explain("iam:GetUser", err)
	}
	if HasManagedTag(out.User.Tags) {
		return true, nil
	}
	return listedUserTag(ctx, client, user), nil
}
