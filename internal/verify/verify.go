// Package verify runs the live checks as the application would: the stored key says
// who it is, the role profile assumes the role, a test object goes up through the role
// and is removed again, and least privilege holds (the user cannot write, the role
// cannot read). A denial counts only from a key that already passed who-am-I, because
// a key that has not propagated yet is rejected too, for another reason.
package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// Check IDs, stable for monitoring from cron.
const (
	CheckFilePermissions = "verify.file-permissions"
	CheckWhoAmI          = "verify.whoami"
	CheckAssumeRole      = "verify.assume-role"
	CheckUpload          = "verify.upload"
	CheckReadBack        = "verify.read-back"
	CheckRoleCannotRead  = "verify.role-denied-get"
	CheckUserCannotWrite = "verify.user-denied-put"
	CheckCleanup         = "verify.cleanup"
)

// Check is the outcome of one check.
type Check struct {
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Warning bool   `json:"warning,omitempty"` // passed, but deserves attention
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is every check in the order run.
type Report struct {
	Checks []Check `json:"checks"`
}

// OK reports whether every check passed or was skipped.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK && !c.Skipped {
			return false
		}
	}
	return true
}

// Deps are what the checks work with. Admin is used only to read back and remove the
// test object and to diagnose a failure, never to pass a check.
type Deps struct {
	AdminS3            awsx.S3
	AdminIAM           awsx.IAM
	Files              appfiles.Files
	Setup              setup.Setup
	Clock              awsx.Clock
	PropagationTimeout time.Duration
	NoWrite            bool
	Sink               event.Sink
}

type checker struct {
	Deps
	report Report
}

func (c *checker) record(ch Check) {
	c.report.Checks = append(c.report.Checks, ch)
	kind := event.Done
	switch {
	case ch.Skipped:
		kind = event.Skip
	case !ch.OK:
		kind = event.Fail
	case ch.Warning:
		kind = event.Warn
	}
	c.Sink(event.Event{Step: ch.ID, Kind: kind, Message: ch.Message, Fix: ch.Fix})
}

func (c *checker) waiting(step, what string) func(time.Duration, error) {
	return func(waited time.Duration, last error) {
		c.Sink(event.Event{Step: step, Kind: event.Wait, Waited: waited,
			Message: fmt.Sprintf("waiting for IAM to propagate %s (%s so far; last answer: %s)", what, waited.Round(time.Second), awsx.Code(last))})
	}
}

// Run runs every check and returns the report; it fails fast only where a later check
// depends on an earlier one.
func Run(ctx context.Context, d Deps) Report {
	if d.Clock == nil {
		d.Clock = awsx.RealClock{}
	}
	if d.Sink == nil {
		d.Sink = event.Discard
	}
	c := &checker{Deps: d}
	c.filePermissions()

	userCfg, err := awsx.Load(ctx, awsx.Target{Profile: d.Files.AppProfile,
		CredentialsFiles: []string{d.Files.CredentialsFile}, ConfigFiles: []string{d.Files.ConfigFile}})
	if err != nil {
		c.record(Check{ID: CheckWhoAmI, Message: "cannot load the application profile: " + err.Error(),
			Fix: "run `iamwizard apply` to write the profiles"})
		return c.report
	}
	if !c.whoAmI(ctx, userCfg) {
		return c.report
	}
	roleCfg, err := awsx.Load(ctx, awsx.Target{Profile: d.Files.RoleProfile,
		CredentialsFiles: []string{d.Files.CredentialsFile}, ConfigFiles: []string{d.Files.ConfigFile}})
	if err != nil {
		c.record(Check{ID: CheckAssumeRole, Message: "cannot load the role profile: " + err.Error(),
			Fix: "run `iamwizard apply` to write the profiles"})
		return c.report
	}
	if !c.assumeRole(ctx, roleCfg) {
		return c.report
	}
	if d.NoWrite {
		for _, s := range []struct{ id, what string }{
			{CheckUpload, "the test upload through the role"},
			{CheckReadBack, "reading the test object back"},
			{CheckRoleCannotRead, "the role's denied read"},
			{CheckUserCannotWrite, "the user's denied write"},
			{CheckCleanup, "removing the test object"},
		} {
			c.record(Check{ID: s.id, Skipped: true, Message: "skipped (--no-write): " + s.what})
		}
		return c.report
	}
	c.objects(ctx, userCfg, roleCfg)
	return c.report
}

func (c *checker) filePermissions() {
	var wide []string
	for _, p := range []string{c.Files.CredentialsFile, c.Files.ConfigFile, c.Files.AppConfig} {
		if p == "" {
			continue
		}
		mode, tooOpen, exists, err := creds.Perm(p)
		if err == nil && exists && tooOpen {
			wide = append(wide, fmt.Sprintf("%s is %04o", p, mode.Perm()))
		}
	}
	if len(wide) > 0 {
		c.record(Check{ID: CheckFilePermissions, OK: true, Warning: true,
			Message: "other users on this machine can read the application's files: " + strings.Join(wide, ", "),
			Fix:     "chmod 600 them (iamwizard apply does this when it writes them)"})
		return
	}
	c.record(Check{ID: CheckFilePermissions, OK: true, Message: "the application's files are readable by their owner only"})
}

// s3Client builds an S3 client for a loaded profile; a custom endpoint needs path-style addressing.
func (c *checker) s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = c.Files.Endpoint != "" || awsx.CustomEndpoint(cfg) != "" })
}

func (c *checker) whoAmI(ctx context.Context, cfg aws.Config) bool {
	client := sts.NewFromConfig(cfg)
	var out *sts.GetCallerIdentityOutput
	err := awsx.WaitFor(ctx, c.Clock, awsx.DefaultBackoff, c.PropagationTimeout, func(ctx context.Context) (err error) {
		out, err = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}, awsx.IsUnknownKey, c.waiting(CheckWhoAmI, "the access key"))
	if err != nil {
		ch := Check{ID: CheckWhoAmI, Message: "the stored key of profile [" + c.Files.AppProfile + "] does not work: " + err.Error()}
		var te *awsx.TimeoutError
		switch {
		case errors.As(err, &te):
			ch.Message = fmt.Sprintf("AWS still rejects the stored key of profile [%s] after %s (%s)", c.Files.AppProfile, te.Waited.Round(time.Second), awsx.Code(te.Last))
			if te.Waited == 0 {
				ch.Message = fmt.Sprintf("AWS rejects the stored key of profile [%s] (%s)", c.Files.AppProfile, awsx.Code(te.Last))
			}
			ch.Fix = "if the key is new, IAM may be slow: re-run with a longer --propagation-timeout; if it was deleted or deactivated, run `iamwizard apply` to issue and store a new one"
		case awsx.Code(err) == "SignatureDoesNotMatch":
			ch.Fix = "the secret in the credentials file does not match the key: run `iamwizard apply --replace-key KEY_ID` to issue a new one"
		default:
			ch.Fix = "run `iamwizard apply` to repair the key"
		}
		c.record(ch)
		return false
	}
	if !plan.SameEntity(aws.ToString(out.Arn), c.Setup.Partition, c.Setup.Account, "user", c.Setup.UserName) {
		c.record(Check{ID: CheckWhoAmI, Message: fmt.Sprintf("profile [%s] is %s, not the user %s", c.Files.AppProfile, aws.ToString(out.Arn), c.Setup.UserARN()),
			Fix: "the credentials file holds another identity's key under that profile: run `iamwizard apply` to store the user's key"})
		return false
	}
	c.record(Check{ID: CheckWhoAmI, OK: true, Message: fmt.Sprintf("profile [%s] is %s", c.Files.AppProfile, aws.ToString(out.Arn))})
	return true
}

func (c *checker) assumeRole(ctx context.Context, cfg aws.Config) bool {
	var creds aws.Credentials
	err := awsx.WaitFor(ctx, c.Clock, awsx.DefaultBackoff, c.PropagationTimeout, func(ctx context.Context) (err error) {
		// Retrieving the role profile's credentials is the AssumeRole call, made by the
		// SDK's own provider exactly as in the application.
		if cache, ok := cfg.Credentials.(*aws.CredentialsCache); ok {
			cache.Invalidate()
		}
		creds, err = cfg.Credentials.Retrieve(ctx)
		return err
	}, func(err error) bool { return awsx.IsAccessDenied(err) || awsx.IsUnknownKey(err) }, c.waiting(CheckAssumeRole, "the role and its trust policy"))
	if err != nil {
		var te *awsx.TimeoutError
		last := err
		if errors.As(err, &te) {
			last = te.Last
		}
		ch := Check{ID: CheckAssumeRole, Message: fmt.Sprintf("profile [%s] cannot assume %s: %s", c.Files.RoleProfile, c.Setup.RoleARN(), firstLine(last))}
		switch {
		case c.roleARNProblem() != "":
			// AWS answers AccessDenied for a role_arn that is not a role, other
			// endpoints InvalidParameterValue: either way the profile is what is wrong.
			ch.Message, ch.Fix = c.roleARNProblem(), "run `iamwizard apply` to write the role's ARN into the profile"
		case awsx.IsAccessDenied(last):
			ch.Message, ch.Fix = c.diagnoseAssume(ctx, cfg)
		default:
			ch.Fix = "run `iamwizard apply` to repair the role profile"
		}
		c.record(ch)
		return false
	}
	if !creds.CanExpire {
		c.record(Check{ID: CheckAssumeRole, Message: fmt.Sprintf("profile [%s] did not assume a role: it has long-lived credentials of its own", c.Files.RoleProfile),
			Fix: "run `iamwizard apply` to rewrite the role profile (role_arn + source_profile)"})
		return false
	}
	c.record(Check{ID: CheckAssumeRole, OK: true,
		Message: fmt.Sprintf("profile [%s] assumed %s; its credentials expire at %s and the SDK renews them", c.Files.RoleProfile, c.Setup.RoleARN(), creds.Expires.UTC().Format(time.RFC3339))})
	return true
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// diagnoseAssume says which side of an AssumeRole denial is wrong: the profile's
// role_arn, the role's trust policy, or the user's own permissions.
func (c *checker) diagnoseAssume(ctx context.Context, cfg aws.Config) (message, fix string) {
	if msg := c.roleARNProblem(); msg != "" {
		return msg, "run `iamwizard apply` to write the role's ARN into the profile"
	}
	if c.AdminIAM == nil {
		return "AssumeRole is denied", "run `iamwizard plan` to compare the role's trust policy and the user's policy"
	}
	role, err := c.AdminIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &c.Setup.RoleName})
	if awsx.IsNotFound(err) {
		return fmt.Sprintf("AssumeRole is denied: the role %s does not exist", c.Setup.RoleName), "run `iamwizard apply` to create it"
	}
	if err == nil {
		trust, _ := policydoc.Decode(aws.ToString(role.Role.AssumeRolePolicyDocument))
		principals := policydoc.Principals(trust)
		names := false
		for _, p := range principals {
			if plan.SameEntity(p, c.Setup.Partition, c.Setup.Account, "user", c.Setup.UserName) {
				names = true
			}
		}
		if !names {
			detail := "it names " + strings.Join(principals, ", ")
			for _, p := range principals {
				if strings.HasPrefix(p, "AIDA") {
					detail = "it names " + p + ", the unique ID of a user that was deleted (a re-created user with the same name is a different principal)"
				}
			}
			return "AssumeRole is denied by the role's side: its trust policy does not name " + c.Setup.UserARN() + "; " + detail,
				"run `iamwizard apply` to rewrite the trust policy"
		}
	}
	return "AssumeRole is denied by the user's side: the trust policy names the user, so an explicit deny, a permissions boundary or an organisation policy (SCP) on the user blocks it",
		"look at the user's policies and permissions boundary (`aws iam get-user --user-name " + c.Setup.UserName + "`) and any SCP of the account"
}

// roleARNProblem says what is wrong with the role profile's role_arn ("" when it
// names the setup's role, or the file cannot say).
func (c *checker) roleARNProblem() string {
	sections, _ := creds.Read(c.Files.ConfigFile)
	roleARN := sections["profile "+c.Files.RoleProfile]["role_arn"]
	if a, err := arn.Parse(roleARN); err == nil && !strings.HasPrefix(a.Resource, "role/") {
		return fmt.Sprintf("AssumeRole is denied: role_arn of profile [%s] is %s, which is not a role", c.Files.RoleProfile, roleARN)
	}
	if roleARN != "" && !plan.SameEntity(roleARN, c.Setup.Partition, c.Setup.Account, "role", c.Setup.RoleName) {
		return fmt.Sprintf("AssumeRole is denied: profile [%s] names %s, not %s", c.Files.RoleProfile, roleARN, c.Setup.RoleARN())
	}
	return ""
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *checker) objects(ctx context.Context, userCfg, roleCfg aws.Config) {
	roleS3, userS3 := c.s3Client(roleCfg), c.s3Client(userCfg)
	key := fmt.Sprintf("%s.iamwizard-check-%s-%s.txt", c.Setup.KeyPrefix, c.Clock.Now().UTC().Format("20060102T150405Z"), randomSuffix())
	body := []byte("iamwizard test object: uploaded through " + c.Setup.RoleARN() + "; safe to delete\n")
	var put *s3.PutObjectOutput
	err := awsx.WaitFor(ctx, c.Clock, awsx.DefaultBackoff, c.PropagationTimeout, func(ctx context.Context) (err error) {
		put, err = roleS3.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.Setup.Bucket, Key: &key, Body: bytes.NewReader(body)})
		return err
	}, func(err error) bool {
		// A denial while the role's policy propagates, or the new session key not yet
		// known to S3 (InvalidAccessKeyId): both clear up by themselves within seconds.
		return awsx.IsAccessDenied(err) || awsx.IsUnknownKey(err)
	}, c.waiting(CheckUpload, "the role's permission to put objects"))
	if err != nil {
		ch := Check{ID: CheckUpload, Message: fmt.Sprintf("the role could not put s3://%s/%s: %s", c.Setup.Bucket, key, firstLine(err)),
			Fix: "run `iamwizard plan` to compare the role's policy; a bucket policy or a KMS key policy can also deny the role"}
		var te *awsx.TimeoutError
		if errors.As(err, &te) && awsx.IsUnknownKey(te.Last) {
			ch.Message = fmt.Sprintf("S3 still rejects the role's session key after %s (%s)", te.Waited.Round(time.Second), awsx.Code(te.Last))
			ch.Fix = "IAM may be slow: re-run `iamwizard verify` with a longer --propagation-timeout"
		}
		c.record(ch)
		for _, id := range []string{CheckReadBack, CheckRoleCannotRead, CheckUserCannotWrite, CheckCleanup} {
			c.record(Check{ID: id, Skipped: true, Message: "not run: the test upload failed"})
		}
		return
	}
	c.record(Check{ID: CheckUpload, OK: true, Message: fmt.Sprintf("the role put s3://%s/%s", c.Setup.Bucket, key)})
	version := put.VersionId

	// The read-back and the two denials are independent: run them at once, report in order.
	var readBack, roleRead, userWrite []Check
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); readBack = c.readBack(ctx, key, version, body) }()
	go func() { defer wg.Done(); roleRead = c.roleCannotRead(ctx, roleS3, key) }()
	go func() { defer wg.Done(); userWrite = c.userCannotWrite(ctx, userS3, key+".user-attempt", body) }()
	wg.Wait()
	for _, ch := range append(append(readBack, roleRead...), userWrite...) {
		c.record(ch)
	}

	if err := c.remove(ctx, key, version); err != nil {
		c.record(Check{ID: CheckCleanup, Message: fmt.Sprintf("could not remove the test object s3://%s/%s: %s", c.Setup.Bucket, key, firstLine(err)),
			Fix: "delete it by hand; it holds no data"})
		return
	}
	c.record(Check{ID: CheckCleanup, OK: true, Message: "removed the test object (that exact version)"})
}

func (c *checker) readBack(ctx context.Context, key string, version *string, body []byte) []Check {
	got, err := c.AdminS3.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.Setup.Bucket, Key: &key, VersionId: version})
	if err != nil {
		return []Check{{ID: CheckReadBack, Message: "the admin could not read the test object back: " + firstLine(err)}}
	}
	data, rerr := io.ReadAll(got.Body)
	_ = got.Body.Close()
	if rerr != nil || !bytes.Equal(data, body) {
		return []Check{{ID: CheckReadBack, Message: "the test object read back differs from what was uploaded"}}
	}
	return []Check{{ID: CheckReadBack, OK: true, Message: "the admin read the test object back intact"}}
}

func (c *checker) roleCannotRead(ctx context.Context, roleS3 *s3.Client, key string) []Check {
	_, err := roleS3.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.Setup.Bucket, Key: &key})
	switch {
	case err == nil:
		return []Check{{ID: CheckRoleCannotRead, Message: "the role can READ objects: it has more than s3:PutObject",
			Fix: "run `iamwizard plan` to find the extra permission (another policy on the role, or a bucket policy)"}}
	case awsx.IsAccessDenied(err):
		return []Check{{ID: CheckRoleCannotRead, OK: true, Message: "the role is denied s3:GetObject, as it should be"}}
	}
	return []Check{{ID: CheckRoleCannotRead, Message: "reading as the role failed for another reason than a denial: " + firstLine(err)}}
}

func (c *checker) userCannotWrite(ctx context.Context, userS3 *s3.Client, key string, body []byte) []Check {
	_, err := userS3.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.Setup.Bucket, Key: &key, Body: bytes.NewReader(body)})
	switch {
	case err == nil:
		checks := []Check{{ID: CheckUserCannotWrite, Message: "the user's own key can PUT objects: it should only be able to assume the role",
			Fix: "run `iamwizard plan` to find the extra permission on the user"}}
		if err := c.remove(ctx, key, nil); err != nil {
			checks = append(checks, Check{ID: CheckCleanup, Message: fmt.Sprintf("could not remove s3://%s/%s written with the user's key: %s", c.Setup.Bucket, key, firstLine(err)),
				Fix: "delete it by hand"})
		}
		return checks
	case awsx.IsAccessDenied(err):
		return []Check{{ID: CheckUserCannotWrite, OK: true, Message: "the user's own key is denied s3:PutObject, as it should be"}}
	}
	return []Check{{ID: CheckUserCannotWrite, Message: "writing with the user's key failed for another reason than a denial: " + firstLine(err)}}
}

// remove deletes the exact version uploaded, so a versioned bucket keeps nothing.
func (c *checker) remove(ctx context.Context, key string, version *string) error {
	// Not cancelled by an interrupt: a test object must not be left behind.
	_, err := c.AdminS3.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: &c.Setup.Bucket, Key: &key, VersionId: version})
	return err
}

// Prove checks only who the stored key is and that the role profile assumes the role,
// waiting for IAM to propagate a new key; rotate-key uses it before retiring the old key.
func Prove(ctx context.Context, d Deps) error {
	if d.Clock == nil {
		d.Clock = awsx.RealClock{}
	}
	if d.Sink == nil {
		d.Sink = event.Discard
	}
	c := &checker{Deps: d}
	target := func(profile string) awsx.Target {
		return awsx.Target{Profile: profile, CredentialsFiles: []string{d.Files.CredentialsFile}, ConfigFiles: []string{d.Files.ConfigFile}}
	}
	failed := func() error {
		last := c.report.Checks[len(c.report.Checks)-1]
		return &awsx.FixError{Summary: last.Message, Fix: last.Fix}
	}
	userCfg, err := awsx.Load(ctx, target(d.Files.AppProfile))
	if err != nil {
		return err
	}
	if !c.whoAmI(ctx, userCfg) {
		return failed()
	}
	roleCfg, err := awsx.Load(ctx, target(d.Files.RoleProfile))
	if err != nil {
		return err
	}
	if !c.assumeRole(ctx, roleCfg) {
		return failed()
	}
	return nil
}
