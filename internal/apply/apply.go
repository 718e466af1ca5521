// Package apply carries out a plan step by step, emitting a progress event for every
// step and AWS operation. It re-reads on "already exists", never takes over what it did
// not create unless told to adopt, and waits out IAM's propagation delays.
package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// Deps are what apply works with.
type Deps struct {
	IAM                awsx.IAM
	Store              settings.Store
	Clock              awsx.Clock
	PropagationTimeout time.Duration
	Files              appfiles.Files
	Sink               event.Sink
	ReplaceKey         string // the key the administrator chose to delete at IAM's 2-key limit
	DeleteKey          string // an unknown key the administrator chose to delete
	StoredKeyBad       string // why the stored key's secret does not work ("" when it works)
}

// Result is what apply changed, without any secret.
type Result struct {
	Changed     []string `json:"changed"` // ids of the steps that made changes
	NewKeyID    string   `json:"new_access_key_id,omitempty"`
	BackupPaths []string `json:"backups,omitempty"`      // copies of files whose sections were replaced
	Warnings    []string `json:"warnings,omitempty"`     // done, but worth a look
	NeedsAction []string `json:"needs_action,omitempty"` // steps left for the administrator's decision
}

type run struct {
	Deps
	// stop is cancelled by an interrupt. Calls themselves run on a context that is not,
	// so an interrupt stops the run between calls and never abandons one mid-flight
	// (a create whose answer was lost leaves an entity nobody recorded).
	stop context.Context
	p    plan.Plan
	s    setup.Setup
	docs policydoc.Documents
	mu   sync.Mutex
	res  Result
	// userCreated is set when this run created the user: a new user has no keys, so
	// they need not be listed again before creating one.
	userCreated bool
}

// Run carries out the plan. Independent steps run concurrently; a stage starts only when
// the one before it succeeded, because its steps depend on those entities.
func Run(ctx context.Context, d Deps, p plan.Plan, docs policydoc.Documents) (Result, error) {
	if d.Clock == nil {
		d.Clock = awsx.RealClock{}
	}
	if d.Sink == nil {
		d.Sink = event.Discard
	}
	r := &run{Deps: d, p: p, s: p.Setup, docs: docs, stop: ctx}
	callCtx := context.WithoutCancel(ctx)
	// Each step starts as soon as the steps it needs are done, so independent calls
	// (the user and both policies; the role and the access key) overlap.
	done := map[string]chan struct{}{}
	for _, st := range p.Steps {
		done[st.ID] = make(chan struct{})
	}
	var (
		emu    sync.Mutex
		errs   []error
		failed = map[string]bool{}
		wg     sync.WaitGroup
	)
	for _, st := range p.Steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[st.ID])
			var blockedBy string
			for _, dep := range stepNeeds[st.ID] {
				if ch, ok := done[dep]; ok {
					<-ch
					emu.Lock()
					if failed[dep] {
						blockedBy = dep
					}
					emu.Unlock()
				}
			}
			if blockedBy != "" {
				emu.Lock()
				failed[st.ID] = true
				emu.Unlock()
				r.emit(event.Event{Step: st.ID, Kind: event.Skip, Message: st.Title + ": not done, because " + blockedBy + " failed"})
				return
			}
			if err := r.step(callCtx, st); err != nil {
				emu.Lock()
				failed[st.ID] = true
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return r.res, errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return r.res, fmt.Errorf("interrupted: %w (re-running continues where it stopped)", err)
	}
	return r.res, nil
}

// stepNeeds says which steps must be done before a step can start.
var stepNeeds = map[string][]string{
	plan.StepUserAttachment:   {plan.StepUser, plan.StepUserPolicy},
	plan.StepRole:             {plan.StepUser}, // the trust policy names the user
	plan.StepAccessKey:        {plan.StepUser},
	plan.StepRoleAttachment:   {plan.StepRole, plan.StepRolePolicy},
	plan.StepExtraPermissions: {plan.StepUser, plan.StepRole},
	plan.StepUnknownKeys:      {plan.StepAccessKey},
}

func (r *run) emit(e event.Event) { r.Sink(e) }

func (r *run) changed(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.res.Changed, id) {
		r.res.Changed = append(r.res.Changed, id)
	}
}

func (r *run) warn(step, msg, fix string) {
	r.mu.Lock()
	r.res.Warnings = append(r.res.Warnings, msg)
	r.mu.Unlock()
	r.emit(event.Event{Step: step, Kind: event.Warn, Message: msg, Fix: fix})
}

// errInterrupted is what a call returns when the run was interrupted before it.
var errInterrupted = errors.New("interrupted before this call; re-running continues here")

// call emits the operation and calls it, unless the run was interrupted.
func (r *run) call(step, op string, fn func() error) error {
	if r.stop.Err() != nil {
		return errInterrupted
	}
	r.emit(event.Event{Step: step, Kind: event.Call, Operation: op, Message: "calling " + op})
	if err := fn(); err != nil {
		return err
	}
	return nil
}

func (r *run) step(ctx context.Context, st plan.Step) error {
	start := r.Clock.Now()
	switch st.State {
	case plan.InSync:
		r.emit(event.Event{Step: st.ID, Kind: event.Done, Message: st.Title + ": in sync"})
		return nil
	case plan.NotManaged, plan.Blocked:
		r.mu.Lock()
		r.res.NeedsAction = append(r.res.NeedsAction, st.ID)
		r.mu.Unlock()
		msg := st.Title + ": " + st.Reason
		if len(st.Details) > 0 {
			msg += " (" + strings.Join(st.Details, "; ") + ")"
		}
		r.emit(event.Event{Step: st.ID, Kind: event.Skip, Message: msg, Fix: st.Fix})
		return nil
	}
	r.emit(event.Event{Step: st.ID, Kind: event.Start, Message: st.Title + ": " + string(st.State) + " (" + st.Reason + ")"})
	var err error
	switch st.ID {
	case plan.StepUser:
		err = r.user(ctx, st)
	case plan.StepUserPolicy:
		err = r.policy(ctx, st, r.s.UserPolicyName, r.s.UserPolicyARN(), r.docs.UserPolicy)
	case plan.StepRolePolicy:
		err = r.policy(ctx, st, r.s.RolePolicyName, r.s.RolePolicyARN(), r.docs.RolePolicy)
	case plan.StepUserAttachment:
		err = r.call(st.ID, "iam:AttachUserPolicy", func() error {
			_, err := r.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &r.s.UserName, PolicyArn: aws.String(r.s.UserPolicyARN())})
			return awsx.Explain("iam:AttachUserPolicy", err)
		})
	case plan.StepRole:
		err = r.role(ctx, st)
	case plan.StepRoleAttachment:
		err = r.call(st.ID, "iam:AttachRolePolicy", func() error {
			_, err := r.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &r.s.RoleName, PolicyArn: aws.String(r.s.RolePolicyARN())})
			return awsx.Explain("iam:AttachRolePolicy", err)
		})
	case plan.StepAccessKey:
		err = r.accessKey(ctx, st)
	case plan.StepProfiles:
		err = r.writeFile(st.ID, r.Files.ConfigFile, r.Files.ConfigSections(r.s))
		if err == nil {
			err = r.tightenFiles(st.ID)
		}
	case plan.StepExtraPermissions:
		err = r.removeExtras(ctx, st)
	case plan.StepUnknownKeys:
		err = r.deleteKey(ctx, st.ID, r.DeleteKey, "chosen with --delete-key")
	case plan.StepAppConfig:
		err = r.writeFile(st.ID, r.Files.AppConfig, r.Files.AppConfigSections(r.s))
	default:
		err = fmt.Errorf("internal: no way to apply step %q", st.ID)
	}
	elapsed := r.Clock.Now().Sub(start)
	if err != nil {
		var fe *awsx.FixError
		fix := ""
		if errors.As(err, &fe) {
			fix = fe.Fix
		}
		r.emit(event.Event{Step: st.ID, Kind: event.Fail, Message: st.Title + ": " + err.Error(), Fix: fix, Elapsed: elapsed})
		return fmt.Errorf("%s: %w", st.Title, err)
	}
	r.changed(st.ID)
	r.emit(event.Event{Step: st.ID, Kind: event.Done, Message: st.Title + ": done", Elapsed: elapsed})
	return nil
}

func (r *run) markManaged(kind, name string) error {
	return r.Store.Update(func(s *settings.Settings) {
		s.MarkManaged(kind, r.s.Account, name, r.Clock.Now())
	})
}

// notOurs is the error for a create that lost a race against someone else's entity.
func notOurs(kind, name, flag string) error {
	return &awsx.FixError{
		Summary: fmt.Sprintf("%s %s was created by someone else while iamwizard ran", kind, name),
		Fix:     fmt.Sprintf("choose another name with %s, or re-run with --adopt to take it over", flag),
	}
}

func (r *run) user(ctx context.Context, st plan.Step) error {
	if st.Adopt {
		return r.adopt(ctx, st.ID, "user", r.s.UserName)
	}
	var out *iam.CreateUserOutput
	_, err := r.create(st.ID, "user", r.s.UserName, "--user", func() (err error) {
		return r.call(st.ID, "iam:CreateUser", func() (err error) {
			out, err = r.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: &r.s.UserName, Tags: plan.ManagedTags()})
			return err
		})
	}, func() (bool, error) { return plan.UserTagged(ctx, r.IAM, r.s.UserName) })
	if err != nil {
		return awsx.Explain("iam:CreateUser", err)
	}
	if out == nil {
		return nil // it existed already, and is ours
	}
	r.mu.Lock()
	r.userCreated = true
	r.mu.Unlock()
	if !plan.HasManagedTag(out.User.Tags) {
		// Some endpoints drop tags given to CreateUser; tag again, and rely on the
		// local record where tagging is not possible at all.
		r.tag(ctx, st.ID, "user", func() error {
			_, err := r.IAM.TagUser(ctx, &iam.TagUserInput{UserName: &r.s.UserName, Tags: plan.ManagedTags()})
			return err
		})
	}
	return nil
}

// create records the entity as the tool's before creating it, so a run killed while
// the create is on its way leaves a record the next run recognises. An "already
// exists" is a reason to re-read: it is ours when it carries the tag or was recorded
// before this run (runs on one machine are serialised by the engine); otherwise it is
// someone else's and the record is taken back. A create that failed takes it back too.
func (r *run) create(step, kind, name, flag string, create func() error, tagged func() (bool, error)) (existed bool, err error) {
	current, err := r.Store.Load()
	if err != nil {
		return false, err
	}
	recordedBefore := current.IsManaged(kind, r.s.Account, name)
	if err := r.markManaged(kind, name); err != nil {
		return false, err
	}
	forget := func() {
		if !recordedBefore {
			_ = r.Store.Update(func(s *settings.Settings) { s.Forget(kind, r.s.Account, name) })
		}
	}
	err = create()
	switch {
	case err == nil:
		return false, nil
	case awsx.IsAlreadyExists(err):
		isTagged, terr := tagged()
		if terr != nil {
			return true, terr
		}
		if isTagged || recordedBefore {
			return true, nil
		}
		forget()
		return true, notOurs(kind, name, flag)
	case awsx.MaybeSent(err):
		// The answer was lost: the create may well have happened. Keep the record, so
		// the next run recognises the entity as the tool's own.
		return false, err
	default:
		forget()
		return false, err
	}
}

// tag tags an entity; an endpoint that cannot tag gets a warning, not a failure.
func (r *run) tag(ctx context.Context, step, kind string, fn func() error) {
	op := map[string]string{"user": "iam:TagUser", "role": "iam:TagRole", "policy": "iam:TagPolicy"}[kind]
	err := r.call(step, op, fn)
	if errors.Is(err, errInterrupted) {
		return // the local record, written before the create, already says it is ours
	}
	if err != nil {
		r.warn(step, fmt.Sprintf("this endpoint cannot tag the %s (%s); iamwizard recorded it as managed in its settings file instead", kind, awsx.Code(err)),
			"keep the settings file, or iamwizard will treat the "+kind+" as not its own")
	}
}

func (r *run) adopt(ctx context.Context, step, kind, name string) error {
	switch kind {
	case "user":
		r.tag(ctx, step, kind, func() error {
			_, err := r.IAM.TagUser(ctx, &iam.TagUserInput{UserName: &name, Tags: plan.ManagedTags()})
			return err
		})
	case "role":
		r.tag(ctx, step, kind, func() error {
			_, err := r.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: &name, Tags: plan.ManagedTags()})
			return err
		})
	case "policy":
		r.tag(ctx, step, kind, func() error {
			_, err := r.IAM.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(r.s.ARN("policy", name)), Tags: plan.ManagedTags()})
			return err
		})
	}
	return r.markManaged(kind, name)
}

// withoutTagsOnRefusal calls create with tags and, if the endpoint refuses for a reason
// that is not about the request's meaning, once more without tags (with a warning).
func (r *run) withoutTagsOnRefusal(step, kind string, create func(tags []types.Tag) error) error {
	err := create(plan.ManagedTags())
	if err == nil || awsx.IsAlreadyExists(err) || awsx.IsAccessDenied(err) || awsx.IsInvalidPrincipal(err) ||
		awsx.IsLimitExceeded(err) || awsx.Code(err) == "MalformedPolicyDocument" || awsx.Code(err) == "" {
		return err
	}
	if !strings.Contains(strings.ToLower(awsx.Message(err)+awsx.Code(err)), "tag") && !awsx.IsNotImplemented(err) {
		return err
	}
	if err2 := create(nil); err2 != nil {
		return err2
	}
	r.warn(step, fmt.Sprintf("this endpoint refused tags on the %s (%s); iamwizard recorded it as managed in its settings file instead", kind, awsx.Message(err)),
		"keep the settings file, or iamwizard will treat the "+kind+" as not its own")
	return nil
}

func (r *run) policy(ctx context.Context, st plan.Step, name, policyARN, doc string) error {
	if st.Adopt {
		if err := r.adopt(ctx, st.ID, "policy", name); err != nil {
			return err
		}
	}
	if st.State == plan.Create {
		existed, err := r.create(st.ID, "policy", name, "--user-policy / --role-policy", func() error {
			return r.withoutTagsOnRefusal(st.ID, "policy", func(tags []types.Tag) error {
				return r.call(st.ID, "iam:CreatePolicy", func() error {
					_, err := r.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &name, PolicyDocument: &doc, Tags: tags,
						Description: aws.String("Managed by iamwizard")})
					return err
				})
			})
		}, func() (bool, error) {
			got, err := r.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &policyARN})
			if err != nil {
				return false, awsx.Explain("iam:GetPolicy", err)
			}
			return plan.HasManagedTag(got.Policy.Tags), nil
		})
		if err != nil {
			return awsx.Explain("iam:CreatePolicy", err)
		}
		if existed {
			return r.newVersion(ctx, st.ID, policyARN, doc)
		}
		return nil
	}
	if slices.Contains(st.Operations, "iam:CreatePolicyVersion") {
		return r.newVersion(ctx, st.ID, policyARN, doc)
	}
	return nil
}

// newVersion makes doc the default version. A managed policy keeps at most 5 versions:
// when IAM says the limit is reached, the oldest non-default version is deleted first.
func (r *run) newVersion(ctx context.Context, step, policyARN, doc string) error {
	create := func() error {
		return r.call(step, "iam:CreatePolicyVersion", func() error {
			_, err := r.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &policyARN, PolicyDocument: &doc, SetAsDefault: true})
			return err
		})
	}
	err := create()
	if !awsx.IsLimitExceeded(err) {
		return awsx.Explain("iam:CreatePolicyVersion", err)
	}
	var versions *iam.ListPolicyVersionsOutput
	if err := r.call(step, "iam:ListPolicyVersions", func() (err error) {
		versions, err = r.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: &policyARN})
		return err
	}); err != nil {
		return awsx.Explain("iam:ListPolicyVersions", err)
	}
	var oldest *types.PolicyVersion
	for i, v := range versions.Versions {
		if v.IsDefaultVersion {
			continue
		}
		if oldest == nil || aws.ToTime(v.CreateDate).Before(aws.ToTime(oldest.CreateDate)) {
			oldest = &versions.Versions[i]
		}
	}
	if oldest == nil {
		return awsx.Explain("iam:CreatePolicyVersion", err)
	}
	r.emit(event.Event{Step: step, Kind: event.Call, Operation: "iam:DeletePolicyVersion",
		Message: fmt.Sprintf("the policy has IAM's maximum of 5 versions: deleting the oldest non-default version %s", aws.ToString(oldest.VersionId))})
	if _, err := r.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &policyARN, VersionId: oldest.VersionId}); err != nil {
		return awsx.Explain("iam:DeletePolicyVersion", err)
	}
	return awsx.Explain("iam:CreatePolicyVersion", create())
}

// waitForPrincipal retries a call that names the user in a trust policy: right after
// CreateUser, IAM may not see the user yet and calls the principal invalid.
func (r *run) waitForPrincipal(ctx context.Context, step, op string, fn func(context.Context) error) error {
	// Sleeps end at an interrupt; the call itself runs on ctx, which an interrupt does not cancel.
	err := awsx.WaitFor(r.stop, r.Clock, awsx.DefaultBackoff, r.PropagationTimeout, func(context.Context) error { return fn(ctx) }, awsx.IsInvalidPrincipal,
		func(waited time.Duration, _ error) {
			r.emit(event.Event{Step: step, Kind: event.Wait, Operation: op, Waited: waited,
				Message: fmt.Sprintf("waiting for IAM to propagate the user %s (%s)", r.s.UserName, waited.Round(time.Second))})
		})
	var te *awsx.TimeoutError
	if errors.As(err, &te) {
		return &awsx.FixError{
			Summary: fmt.Sprintf("IAM still calls the user %s an invalid principal after %s: the user really does not exist", r.s.UserARN(), te.Waited.Round(time.Second)),
			Fix:     "check that the user exists (`aws iam get-user --user-name " + r.s.UserName + "`) and re-run; raise --propagation-timeout if IAM is slow today",
			Err:     te.Last,
		}
	}
	return awsx.Explain(op, err)
}

func (r *run) role(ctx context.Context, st plan.Step) error {
	if st.Adopt {
		if err := r.adopt(ctx, st.ID, "role", r.s.RoleName); err != nil {
			return err
		}
	}
	if st.State == plan.Create {
		var existing *types.Role
		existed, err := r.create(st.ID, "role", r.s.RoleName, "--role", func() error {
			return r.withoutTagsOnRefusal(st.ID, "role", func(tags []types.Tag) error {
				return r.waitForPrincipal(ctx, st.ID, "iam:CreateRole", func(ctx context.Context) error {
					return r.call(st.ID, "iam:CreateRole", func() error {
						_, err := r.IAM.CreateRole(ctx, &iam.CreateRoleInput{
							RoleName: &r.s.RoleName, AssumeRolePolicyDocument: &r.docs.Trust,
							MaxSessionDuration: aws.Int32(r.s.MaxSessionDuration), Tags: tags,
							Description: aws.String("Managed by iamwizard: lets " + r.s.UserName + " put objects into " + r.s.Bucket),
						})
						return err
					})
				})
			})
		}, func() (bool, error) {
			got, err := r.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &r.s.RoleName})
			if err != nil {
				return false, awsx.Explain("iam:GetRole", err)
			}
			existing = got.Role
			return plan.HasManagedTag(got.Role.Tags), nil
		})
		if err != nil {
			return awsx.Explain("iam:CreateRole", err)
		}
		if !existed {
			return nil
		}
		// It was created meanwhile by another run of ours: bring what differs in line.
		st.Operations = nil
		if existing != nil {
			if equal, err := policydoc.Equal(aws.ToString(existing.AssumeRolePolicyDocument), r.docs.Trust); err != nil || !equal {
				st.Operations = append(st.Operations, "iam:UpdateAssumeRolePolicy")
			}
			if aws.ToInt32(existing.MaxSessionDuration) != r.s.MaxSessionDuration {
				st.Operations = append(st.Operations, "iam:UpdateRole")
			}
		}
	}
	if slices.Contains(st.Operations, "iam:UpdateAssumeRolePolicy") {
		err := r.waitForPrincipal(ctx, st.ID, "iam:UpdateAssumeRolePolicy", func(ctx context.Context) error {
			return r.call(st.ID, "iam:UpdateAssumeRolePolicy", func() error {
				_, err := r.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &r.s.RoleName, PolicyDocument: &r.docs.Trust})
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	if slices.Contains(st.Operations, "iam:UpdateRole") {
		if err := r.call(st.ID, "iam:UpdateRole", func() error {
			_, err := r.IAM.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: &r.s.RoleName, MaxSessionDuration: aws.Int32(r.s.MaxSessionDuration)})
			return err
		}); err != nil {
			return awsx.Explain("iam:UpdateRole", err)
		}
	}
	return nil
}

func (r *run) writeFile(step, path string, sections []creds.Section) error {
	res, err := creds.Apply(path, sections, creds.Options{Backup: true, Now: r.Clock.Now})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := r.Store.Update(func(s *settings.Settings) {
		for _, sec := range sections {
			s.MarkSection(path, sec.Name, r.Clock.Now())
		}
	}); err != nil {
		return err
	}
	if res.Tightened {
		r.emit(event.Event{Step: step, Kind: event.Call, Message: path + " was readable by others: now 0600, readable by its owner only"})
	}
	if res.BackupPath != "" {
		r.mu.Lock()
		r.res.BackupPaths = append(r.res.BackupPaths, res.BackupPath)
		r.mu.Unlock()
		r.emit(event.Event{Step: step, Kind: event.Warn, Message: fmt.Sprintf("replaced a section of %s; the previous file is kept as %s", path, res.BackupPath)})
	}
	return nil
}

// tightenFiles makes the application's files readable by their owner only; a file
// written just now is already 0600, an older one may have been widened since.
func (r *run) tightenFiles(step string) error {
	for _, p := range []string{r.Files.CredentialsFile, r.Files.ConfigFile, r.Files.AppConfig} {
		if p == "" {
			continue
		}
		mode, tooOpen, exists, err := creds.Perm(p)
		if err != nil || !exists || !tooOpen {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("tightening %s: %w", p, err)
		}
		r.emit(event.Event{Step: step, Kind: event.Call, Message: fmt.Sprintf("%s was %04o: now 0600, readable by its owner only", p, mode.Perm())})
	}
	return nil
}

// removeExtras takes away access beyond the setup that the plan named.
func (r *run) removeExtras(ctx context.Context, st plan.Step) error {
	user, role := &r.s.UserName, &r.s.RoleName
	for _, e := range st.Extra {
		name := e.Name
		var op string
		var err error
		switch e.Kind {
		case "user-managed":
			op = "iam:DetachUserPolicy"
			_, err = r.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: &name})
		case "user-inline":
			op = "iam:DeleteUserPolicy"
			_, err = r.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: &name})
		case "user-group":
			op = "iam:RemoveUserFromGroup"
			_, err = r.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: &name})
		case "user-boundary":
			op = "iam:DeleteUserPermissionsBoundary"
			_, err = r.IAM.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: user})
		case "user-login-profile":
			op = "iam:DeleteLoginProfile"
			_, err = r.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
		case "role-managed":
			op = "iam:DetachRolePolicy"
			_, err = r.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: &name})
		case "role-inline":
			op = "iam:DeleteRolePolicy"
			_, err = r.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: &name})
		default:
			return fmt.Errorf("internal: unknown extra grant %q", e.Kind)
		}
		r.emit(event.Event{Step: st.ID, Kind: event.Call, Operation: op, Message: "removed: " + e.Describe()})
		if err != nil && !awsx.IsNotFound(err) {
			return awsx.Explain(op, err)
		}
	}
	return nil
}
