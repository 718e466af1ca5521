// Package engine is the one flow both views drive: choices -> desired setup ->
// preflight -> plan (observed vs desired) -> apply (events) -> verify (report).
// The plain commands and the TUI call it; neither calls AWS on its own.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/gofrs/flock"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/rotate"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
	"github.com/iamwizard/iamwizard/internal/teardown"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// profileNameChars are the characters of a profile name iamwizard writes: any SDK,
// the CLI and a shell (AWS_PROFILE=...) take them as they are.
var profileNameChars = regexp.MustCompile(`^[A-Za-z0-9._+@-]{1,64}$`)

// DefaultPropagationTimeout is how long to wait for IAM to make a change visible.
const DefaultPropagationTimeout = 60 * time.Second

// rootWarning is said when the admin credentials are the account's root user.
const rootWarning = "you are using the account's root user: AWS advises an administrator user or role for everyday work; iamwizard goes on"

// DefaultMaxKeyAge is the age after which verify suggests rotating the key.
const DefaultMaxKeyAge = 90 * 24 * time.Hour

// MaxClockSkew is the offset from AWS's clock above which signing starts to fail.
const MaxClockSkew = 5 * time.Minute

// Config is one run's resolved choices and behaviour.
type Config struct {
	Choices            settings.Choices // every name filled in (see WithDefaults)
	PropagationTimeout time.Duration
	NoWrite            bool          // verify without uploading
	Adopt              bool          // take over existing entities of the same names
	ReplaceKey         string        // the access key to delete at IAM's 2-key limit
	DeleteKey          string        // an unknown access key the administrator chose to delete
	MaxKeyAge          time.Duration // keys older than this get a warning (0: DefaultMaxKeyAge)
	Store              settings.Store
	Clock              awsx.Clock // nil: the wall clock
	// Clients replaces the admin clients (tests); nil builds them from the SDK's chain.
	Clients *awsx.Clients
}

// WithDefaults fills every unset choice with its default.
func WithDefaults(c settings.Choices) settings.Choices {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.UserName, setup.DefaultUserName)
	def(&c.RoleName, setup.DefaultRoleName)
	def(&c.UserPolicyName, setup.DefaultUserPolicyName)
	def(&c.RolePolicyName, setup.DefaultRolePolicyName)
	def(&c.AppProfile, setup.DefaultAppProfile)
	def(&c.RoleProfile, setup.DefaultRoleProfile)
	credsFile, configFile := awsx.DefaultSharedFiles()
	def(&c.CredentialsFile, credsFile)
	def(&c.ConfigFile, configFile)
	if c.MaxSessionDuration == 0 {
		c.MaxSessionDuration = setup.DefaultMaxSessionDuration
	}
	return c
}

// Validate checks every choice before any call or write: names, bucket, prefix,
// profile names and file paths.
func Validate(c settings.Choices) error {
	if c.Bucket == "" {
		return awsx.Fix("no bucket chosen", "name the bucket the application writes to with --bucket (it must exist already)")
	}
	s := desiredSetup(c, "aws", "000000000000")
	if err := s.Validate(); err != nil {
		return err
	}
	for flag, name := range map[string]string{"--app-profile": c.AppProfile, "--role-profile": c.RoleProfile} {
		if strings.ContainsAny(name, " \t") {
			return fmt.Errorf("%s: %q: profile names cannot contain spaces", flag, name)
		}
		if !profileNameChars.MatchString(name) {
			return fmt.Errorf("%s: %q: use letters, digits and . _ - + @ in profile names, at most 64", flag, name)
		}
		if err := creds.ValidateName(name); err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
	}
	if c.AppProfile == c.RoleProfile {
		return fmt.Errorf("--app-profile and --role-profile must differ: both are %q", c.AppProfile)
	}
	paths := map[string]string{"--credentials-file": c.CredentialsFile, "--config-file": c.ConfigFile, "--app-config": c.AppConfig}
	for flag, p := range paths {
		if p == "" && flag == "--app-config" {
			continue
		}
		if p == "" || strings.ContainsAny(p, "\x00\n\r") {
			return fmt.Errorf("%s: %q is not a usable file path", flag, p)
		}
	}
	seen := map[string]string{}
	for flag, p := range paths {
		if p == "" {
			continue
		}
		if info, err := os.Stat(p); err == nil && !info.Mode().IsRegular() {
			return fmt.Errorf("%s: %s is not a regular file (a directory?): name the file itself", flag, p)
		}
		abs, _ := filepath.Abs(p)
		if other, dup := seen[abs]; dup {
			return fmt.Errorf("%s and %s name the same file %s: each needs its own", flag, other, p)
		}
		seen[abs] = flag
	}
	if c.EndpointURL != "" && !strings.HasPrefix(c.EndpointURL, "http://") && !strings.HasPrefix(c.EndpointURL, "https://") {
		return fmt.Errorf("--endpoint-url: %q must start with http:// or https://", c.EndpointURL)
	}
	return nil
}

func desiredSetup(c settings.Choices, partition, account string) setup.Setup {
	return setup.Setup{
		Partition: partition, Account: account,
		Bucket: c.Bucket, KeyPrefix: c.KeyPrefix,
		UserName: c.UserName, RoleName: c.RoleName,
		UserPolicyName: c.UserPolicyName, RolePolicyName: c.RolePolicyName,
		MaxSessionDuration: c.MaxSessionDuration,
	}
}

// InvalidChoiceError is a choice that breaks IAM's, S3's or the tool's rules, found
// before any call or write.
type InvalidChoiceError struct{ Err error }

func (e *InvalidChoiceError) Error() string { return e.Err.Error() }

func (e *InvalidChoiceError) Unwrap() error { return e.Err }

// Engine runs the flow for one configuration.
type Engine struct {
	cfg     Config
	admin   awsx.Clients
	awsCfg  aws.Config
	pre     *Preflight
	desired setup.Setup
	docs    policydoc.Documents
	files   appfiles.Files
	// changed is set when Apply changed something, so Verify knows to wait for IAM.
	changed bool
	// preErr is a preflight failure that still left enough known for destroy (a gone bucket).
	preErr error
	// lastPlan is the latest plan, so Verify need not wait for a key it knows is gone.
	lastPlan *plan.Plan
	// storedKeyBad is what Plan learned about the stored key's secret, for Apply.
	storedKeyBad string
}

// SettleTimeout bounds the propagation waits of a verify that follows no change: a
// denial then is almost always real, and a cron job should not hang for a minute.
const SettleTimeout = 5 * time.Second

// Preflight is what was learned about the admin identity and the bucket.
type Preflight struct {
	AdminARN  string        `json:"admin_arn"`
	Account   string        `json:"account"`
	Partition string        `json:"partition"`
	Region    string        `json:"region"` // the bucket's region
	Endpoint  string        `json:"endpoint,omitempty"`
	ClockSkew time.Duration `json:"clock_skew_ns"`
	Warnings  []string      `json:"warnings,omitempty"`
}

// New validates the configuration and builds the admin clients; it makes no call.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.Choices = WithDefaults(cfg.Choices)
	if err := Validate(cfg.Choices); err != nil {
		return nil, &InvalidChoiceError{Err: err}
	}
	if cfg.PropagationTimeout <= 0 {
		cfg.PropagationTimeout = DefaultPropagationTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = awsx.RealClock{}
	}
	if cfg.MaxKeyAge <= 0 {
		cfg.MaxKeyAge = DefaultMaxKeyAge
	}
	e := &Engine{cfg: cfg}
	awsCfg, err := awsx.Load(ctx, awsx.Target{Profile: cfg.Choices.Profile, Region: cfg.Choices.Region, EndpointURL: cfg.Choices.EndpointURL})
	if err != nil {
		return nil, err
	}
	e.awsCfg = awsCfg
	if cfg.Clients != nil {
		e.admin = *cfg.Clients
	} else {
		e.admin = awsx.NewClients(awsCfg)
	}
	return e, nil
}

// Choices are the resolved choices of this run.
func (e *Engine) Choices() settings.Choices { return e.cfg.Choices }

// Preflight checks the admin identity and the bucket. It is called by Plan when needed.
func (e *Engine) Preflight(ctx context.Context) (*Preflight, error) {
	if e.pre != nil {
		return e.pre, e.preErr
	}
	// Who the admin is and where the bucket is are independent: ask both at once.
	var region string
	var regionErr error
	regionDone := make(chan struct{})
	go func() {
		defer close(regionDone)
		region, regionErr = e.bucketRegion(ctx)
	}()
	id, err := e.admin.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	<-regionDone
	if err != nil {
		return nil, explainPreflight(err, e.awsCfg)
	}
	p := &Preflight{AdminARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account), Endpoint: awsx.CustomEndpoint(e.awsCfg)}
	if a, err := arn.Parse(p.AdminARN); err == nil {
		p.Partition = a.Partition
		if a.Resource == "root" {
			p.Warnings = append(p.Warnings, rootWarning)
		}
	} else {
		p.Partition = "aws"
	}
	if raw, ok := awsmw.GetRawResponse(id.ResultMetadata).(*smithyhttp.Response); ok {
		if date, err := http.ParseTime(raw.Header.Get("Date")); err == nil {
			p.ClockSkew = e.cfg.Clock.Now().Sub(date)
			if p.ClockSkew > MaxClockSkew || p.ClockSkew < -MaxClockSkew {
				p.Warnings = append(p.Warnings, fmt.Sprintf("this machine's clock is %s off AWS's: AWS rejects signatures from clocks more than 5 minutes off (SignatureDoesNotMatch / RequestTimeTooSkewed); fix it with NTP (timedatectl set-ntp true)", p.ClockSkew.Round(time.Second)))
			}
		}
	}
	var gone *BucketMissingError
	if errors.As(regionErr, &gone) {
		// Destroy still needs the rest of the preflight; everything else stops here.
		region, e.preErr = e.awsCfg.Region, regionErr
	} else if regionErr != nil {
		return nil, regionErr
	}
	p.Region = region
	e.pre = p
	e.desired = desiredSetup(e.cfg.Choices, p.Partition, p.Account)
	docs, err := policydoc.Render(e.desired)
	if err != nil {
		return nil, err
	}
	e.docs = docs
	c := e.cfg.Choices
	e.files = appfiles.Files{CredentialsFile: c.CredentialsFile, ConfigFile: c.ConfigFile, AppConfig: c.AppConfig,
		AppProfile: c.AppProfile, RoleProfile: c.RoleProfile, Region: region, Endpoint: p.Endpoint}
	return p, e.preErr
}

func explainPreflight(err error, cfg aws.Config) error {
	if awsx.IsUnreachable(err) {
		where := "AWS"
		if ep := awsx.CustomEndpoint(cfg); ep != "" {
			where = ep
		}
		return &awsx.FixError{Summary: "cannot reach " + where, Fix: "check --endpoint-url / AWS_ENDPOINT_URL and the network", Err: err}
	}
	var fe *awsx.FixError
	if errors.As(err, &fe) {
		return err
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return &awsx.FixError{Summary: "no AWS admin credentials found",
			Fix: "pass --profile NAME of an administrator profile, set AWS_PROFILE, or log in with `aws sso login`", Err: err}
	}
	return awsx.Explain("sts:GetCallerIdentity", err)
}

// bucketRegion checks that the bucket exists and learns its region.
func (e *Engine) bucketRegion(ctx context.Context) (string, error) {
	bucket := e.cfg.Choices.Bucket
	out, err := e.admin.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			// A bucket in another region answers 301 with its region in a header.
			if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" && re.Response.StatusCode == http.StatusMovedPermanently {
				return r, nil
			}
			if re.Response.StatusCode == http.StatusNotFound {
				return "", &BucketMissingError{FixError: awsx.FixError{Summary: fmt.Sprintf("the bucket %s does not exist", bucket),
					Fix: "create it first (`aws s3 mb s3://" + bucket + "`) or check the name; iamwizard never creates or deletes buckets", Err: err}}
			}
			if re.Response.StatusCode == http.StatusForbidden {
				return "", awsx.Fix(fmt.Sprintf("the admin credentials may not see the bucket %s (403)", bucket),
					"check that the bucket belongs to this account and that the admin may call s3:ListBucket on it")
			}
		}
		return "", awsx.Explain("s3:HeadBucket", err)
	}
	if r := aws.ToString(out.BucketRegion); r != "" {
		return r, nil
	}
	return e.awsCfg.Region, nil
}

// BucketMissingError says the bucket does not exist (any more).
type BucketMissingError struct{ awsx.FixError }

// Setup is the desired setup (after Preflight).
func (e *Engine) Setup() setup.Setup { return e.desired }

// Documents are the rendered policy documents (after Preflight).
func (e *Engine) Documents() policydoc.Documents { return e.docs }

// Files are where the application's files go (after Preflight).
func (e *Engine) Files() appfiles.Files { return e.files }

// Plan observes AWS and the local files and compares them with the desired setup.
// It makes no write call.
func (e *Engine) Plan(ctx context.Context) (plan.Plan, error) { return e.plan(ctx, true) }

// Compare is Plan without asking STS whether the stored key's secret works: verify's
// who-am-I check asks that itself, as the application would, so verify uses Compare.
func (e *Engine) Compare(ctx context.Context) (plan.Plan, error) { return e.plan(ctx, false) }

func (e *Engine) plan(ctx context.Context, testKey bool) (plan.Plan, error) {
	if _, err := e.Preflight(ctx); err != nil {
		return plan.Plan{}, err
	}
	observed, err := plan.Observe(ctx, e.admin.IAM, e.desired)
	if err != nil {
		return plan.Plan{}, err
	}
	local, err := e.local()
	if err != nil {
		return plan.Plan{}, err
	}
	if testKey {
		local.StoredKeyBad = e.testStoredKey(ctx, observed, local.StoredKeyID)
	}
	if err := e.foreignSections(observed, &local); err != nil {
		return plan.Plan{}, err
	}
	p := plan.Build(e.desired, e.docs, observed, local)
	e.lastPlan = &p
	p.Warnings = append(append([]string(nil), e.pre.Warnings...), p.Warnings...)
	return p, nil
}

func (e *Engine) local() (plan.Local, error) {
	st, err := e.cfg.Store.Load()
	if err != nil {
		return plan.Local{}, err
	}
	l := plan.Local{
		Managed:    func(kind, name string) bool { return st.IsManaged(kind, e.desired.Account, name) },
		AppConfig:  e.files.AppConfig,
		Adopt:      e.cfg.Adopt,
		ReplaceKey: e.cfg.ReplaceKey,
		DeleteKey:  e.cfg.DeleteKey,
		Now:        e.cfg.Clock.Now(),
		MaxKeyAge:  e.cfg.MaxKeyAge,
	}
	for _, p := range []string{e.files.CredentialsFile, e.files.ConfigFile, e.files.AppConfig} {
		if p == "" {
			continue
		}
		if mode, tooOpen, exists, err := creds.Perm(p); err == nil && exists && tooOpen {
			l.TooOpen = append(l.TooOpen, fmt.Sprintf("%s (%04o)", p, mode.Perm()))
		}
	}
	if l.StoredKeyID, err = e.files.StoredKeyID(); err != nil {
		return l, fmt.Errorf("reading %s: %w", e.files.CredentialsFile, err)
	}
	if l.KeyIntents, err = apply.KeyIntents(e.cfg.Store, e.desired.Account, e.desired.UserName); err != nil {
		return l, err
	}
	for _, k := range st.Retired(e.desired.Account, e.desired.UserName) {
		l.Retired = append(l.Retired, k.KeyID)
	}
	if l.ProfilesDiff, err = creds.Pending(e.files.ConfigFile, e.files.ConfigSections(e.desired)); err != nil {
		return l, fmt.Errorf("reading %s: %w", e.files.ConfigFile, err)
	}
	if e.files.AppConfig != "" {
		pending, err := creds.Pending(e.files.AppConfig, e.files.AppConfigSections(e.desired))
		if err != nil {
			return l, fmt.Errorf("reading %s: %w", e.files.AppConfig, err)
		}
		l.AppConfigOK = len(pending) == 0
	}
	return l, nil
}

// Remember stores the choices in the settings file (no secrets), so a later run with
// no flags repeats this setup.
func (e *Engine) Remember() error {
	return e.cfg.Store.Update(func(s *settings.Settings) { s.Choices = e.cfg.Choices })
}

// lock serialises the runs that change things on one machine (apply, rotate-key,
// destroy): a second run waits, then works from what the first left. It returns
// whether it had to wait.
func (e *Engine) lock(ctx context.Context, sink event.Sink) (unlock func(), waited bool, err error) {
	if err := os.MkdirAll(filepath.Dir(e.cfg.Store.Path), 0o700); err != nil {
		return nil, false, err
	}
	l := flock.New(e.cfg.Store.Path + ".run.lock")
	ok, err := l.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("locking %s: %w", l.Path(), err)
	}
	if !ok {
		if sink != nil {
			sink(event.Event{Step: "lock", Kind: event.Wait, Message: "another iamwizard run on this machine is changing the setup: waiting for it to finish"})
		}
		if _, err := l.TryLockContext(ctx, 200*time.Millisecond); err != nil {
			return nil, true, fmt.Errorf("waiting for the other iamwizard run: %w", err)
		}
		waited = true
	}
	return func() { _ = l.Unlock() }, waited, nil
}

// Apply carries out the plan, emitting events to sink. When another run on this
// machine held the lock, the plan is made again from what that run left.
func (e *Engine) Apply(ctx context.Context, p plan.Plan, sink event.Sink) (apply.Result, error) {
	if _, err := e.Preflight(ctx); err != nil {
		return apply.Result{}, err
	}
	unlock, waited, err := e.lock(ctx, sink)
	if err != nil {
		return apply.Result{}, err
	}
	defer unlock()
	if waited {
		if p, err = e.Plan(ctx); err != nil {
			return apply.Result{}, err
		}
	}
	if err := e.Remember(); err != nil {
		return apply.Result{}, err
	}
	res, err := apply.Run(ctx, apply.Deps{
		IAM: e.admin.IAM, Store: e.cfg.Store, Clock: e.cfg.Clock, PropagationTimeout: e.cfg.PropagationTimeout,
		Files: e.files, Sink: sink, ReplaceKey: e.cfg.ReplaceKey, DeleteKey: e.cfg.DeleteKey, StoredKeyBad: e.storedKeyBad,
	}, p, e.docs)
	if len(res.Changed) > 0 {
		e.changed = true
	}
	if err == nil {
		if rerr := e.recordSections(); rerr != nil {
			return res, rerr
		}
	}
	return res, err
}

// Verify runs the live checks as the application, emitting events to sink. It waits
// up to the propagation timeout for IAM only when this engine's Apply changed something.
func (e *Engine) Verify(ctx context.Context, sink event.Sink) (verify.Report, error) {
	if _, err := e.Preflight(ctx); err != nil {
		return verify.Report{}, err
	}
	timeout := e.cfg.PropagationTimeout
	if !e.changed {
		timeout = min(timeout, SettleTimeout)
		if e.lastPlan != nil && e.lastPlan.Pending() {
			// The plan already knows what is wrong (a key gone, a policy detached): a
			// denial then is that, and waiting for IAM to propagate helps nothing.
			timeout = 0
		}
	}
	return verify.Run(ctx, verify.Deps{
		AdminS3: e.admin.S3, AdminIAM: e.admin.IAM, Files: e.files, Setup: e.desired, Clock: e.cfg.Clock,
		PropagationTimeout: timeout, NoWrite: e.cfg.NoWrite, Sink: sink,
	}), nil
}

// testStoredKey asks STS who the stored key is, to tell a key whose stored secret is
// wrong (it can never work) from one that works. Only a signature mismatch is
// conclusive: a key that is merely new may be unknown to STS for a few seconds.
func (e *Engine) testStoredKey(ctx context.Context, o plan.Observed, keyID string) string {
	e.storedKeyBad = ""
	if keyID == "" {
		return ""
	}
	active := false
	for _, k := range o.Keys {
		active = active || (k.ID == keyID && k.Status == "Active")
	}
	if !active {
		return ""
	}
	sections, err := creds.Read(e.files.CredentialsFile)
	if err != nil {
		return ""
	}
	secret := sections[e.files.AppProfile]["aws_secret_access_key"]
	cfg := e.awsCfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, "")
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := awsx.Code(err); code == "SignatureDoesNotMatch" || code == "IncompleteSignature" {
		e.storedKeyBad = code
	}
	return e.storedKeyBad
}

// DriftChecks turns a plan into checks with stable IDs ("drift.STEP"), for verify's
// report: every step that is not in sync is a failed check with its fix.
func DriftChecks(p plan.Plan) []verify.Check {
	var checks []verify.Check
	for _, st := range p.Steps {
		c := verify.Check{ID: "drift." + st.ID, OK: true, Message: st.Title + ": in sync"}
		switch st.State {
		case plan.InSync:
			if st.Warning != "" {
				c.Warning, c.Message = true, st.Warning
			}
		case plan.NotManaged, plan.Blocked:
			c.OK, c.Message, c.Fix = false, st.Title+": "+st.Reason, st.Fix
		default:
			c.OK, c.Message, c.Fix = false, st.Title+": "+st.Reason, "run `iamwizard apply` to repair it"
		}
		if !c.OK && len(st.Details) > 0 {
			c.Message += " (" + strings.Join(st.Details, "; ") + ")"
		}
		if !c.OK && st.Diff != "" {
			c.Message += "\n" + st.Diff
		}
		checks = append(checks, c)
	}
	return checks
}

// RotateKey replaces the stored access key: create, store, prove, then deactivate (or
// with deleteOld delete) the old one. The setup must be in place and managed.
func (e *Engine) RotateKey(ctx context.Context, sink event.Sink, deleteOld bool) (rotate.Result, error) {
	p, err := e.Plan(ctx)
	if err != nil {
		return rotate.Result{}, err
	}
	unlock, _, err := e.lock(ctx, sink)
	if err != nil {
		return rotate.Result{}, err
	}
	defer unlock()
	if user := p.Step(plan.StepUser); user.State != plan.InSync {
		return rotate.Result{}, awsx.Fix(fmt.Sprintf("%s: %s", user.Title, user.Reason), "run `iamwizard apply` first")
	}
	return rotate.Run(ctx, rotate.Deps{
		IAM: e.admin.IAM, Store: e.cfg.Store, Files: e.files, Setup: e.desired, Clock: e.cfg.Clock, Sink: sink,
		DeleteOld: deleteOld,
		Prove: func(ctx context.Context) error {
			return verify.Prove(ctx, verify.Deps{Files: e.files, Setup: e.desired, Clock: e.cfg.Clock,
				PropagationTimeout: e.cfg.PropagationTimeout, Sink: sink, AdminIAM: e.admin.IAM})
		},
	})
}

// DestroyInventory says what destroy would remove and what it leaves alone; it only reads.
// It works when the bucket is gone too.
func (e *Engine) DestroyInventory(ctx context.Context) ([]teardown.Item, plan.Observed, error) {
	if _, err := e.Preflight(ctx); err != nil && e.pre == nil {
		return nil, plan.Observed{}, err
	}
	observed, err := plan.Observe(ctx, e.admin.IAM, e.desired)
	if err != nil {
		return nil, observed, err
	}
	st, err := e.cfg.Store.Load()
	if err != nil {
		return nil, observed, err
	}
	items := teardown.Inventory(teardown.Deps{Setup: e.desired, Observed: observed},
		func(kind, name string) bool { return st.IsManaged(kind, e.desired.Account, name) })
	return items, observed, nil
}

// Destroy removes what the inventory marks for removal, the test objects and the profiles.
func (e *Engine) Destroy(ctx context.Context, items []teardown.Item, observed plan.Observed, sink event.Sink) ([]string, error) {
	unlock, _, err := e.lock(ctx, sink)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := e.cfg.Store.Load()
	if err != nil {
		return nil, err
	}
	return teardown.Run(ctx, teardown.Deps{IAM: e.admin.IAM, S3: e.admin.S3, Store: e.cfg.Store, Files: e.files,
		Setup: e.desired, Observed: observed, Sink: sink, Owns: st.OwnsSection}, items)
}

// foreignSections finds sections of the application's files that have the names
// iamwizard would write but were written by someone else: they are left alone unless
// the administrator says --adopt, as for IAM entities.
func (e *Engine) foreignSections(o plan.Observed, l *plan.Local) error {
	st, err := e.cfg.Store.Load()
	if err != nil {
		return err
	}
	f := e.files
	credentials, err := creds.Read(f.CredentialsFile)
	if err != nil {
		return err
	}
	if sec, ok := credentials[f.AppProfile]; ok && !st.OwnsSection(f.CredentialsFile, f.AppProfile) {
		userKey := false
		for _, k := range o.Keys {
			userKey = userKey || k.ID == sec["aws_access_key_id"]
		}
		if !userKey {
			l.ForeignCredentials = fmt.Sprintf("[%s] in %s", f.AppProfile, f.CredentialsFile)
		}
	}
	check := func(path string, sections []creds.Section) error {
		existing, err := creds.Read(path)
		if err != nil {
			return err
		}
		differing, err := creds.Pending(path, sections)
		if err != nil {
			return err
		}
		for _, name := range differing {
			if _, exists := existing[name]; exists && !st.OwnsSection(path, name) {
				l.ForeignProfiles = append(l.ForeignProfiles, fmt.Sprintf("[%s] in %s", name, path))
			}
		}
		return nil
	}
	if err := check(f.ConfigFile, f.ConfigSections(e.desired)); err != nil {
		return err
	}
	if f.AppConfig != "" {
		return check(f.AppConfig, f.AppConfigSections(e.desired))
	}
	return nil
}

// recordSections notes every section iamwizard has just written or found as it would
// write them, so later runs know them as its own.
func (e *Engine) recordSections() error {
	f := e.files
	return e.cfg.Store.Update(func(s *settings.Settings) {
		now := e.cfg.Clock.Now()
		if id, err := f.StoredKeyID(); err == nil && id != "" {
			s.MarkSection(f.CredentialsFile, f.AppProfile, now)
		}
		for _, sec := range f.ConfigSections(e.desired) {
			s.MarkSection(f.ConfigFile, sec.Name, now)
		}
		if f.AppConfig != "" {
			for _, sec := range f.AppConfigSections(e.desired) {
				s.MarkSection(f.AppConfig, sec.Name, now)
			}
		}
	})
}
