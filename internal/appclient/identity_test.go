package appclient

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/settings"
)

func writeSettings(t *testing.T, c settings.Choices) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "settings.json")
	if err := (settings.Store{Path: p}).Update(func(s *settings.Settings) { s.Choices = c }); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeINI(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const roleARN = "arn:aws:iam::123456789012:role/application-role"

func TestResolveFromSettings(t *testing.T) {
	p := writeSettings(t, settings.Choices{Bucket: "my-bucket", KeyPrefix: "in/", RoleProfile: "r", AppProfile: "a", ConfigFile: "/x/config"})
	id, err := Resolve(Sources{SettingsPath: p})
	if err != nil {
		t.Fatal(err)
	}
	if id.RoleARN != "" || id.Profile() != "r" || id.Bucket != "my-bucket" || id.KeyPrefix != "in/" || id.ConfigFile != "/x/config" || !strings.Contains(id.Source, p) {
		t.Fatalf("%+v", id)
	}
	// Explicit values win, an explicit empty prefix included.
	id, err = Resolve(Sources{SettingsPath: p, RoleProfile: "other", KeyPrefixSet: true})
	if err != nil || id.Profile() != "other" || id.KeyPrefix != "" {
		t.Fatalf("%+v %v", id, err)
	}
}

func TestResolveFromTheClassicAppConfig(t *testing.T) {
	p := writeSettings(t, settings.Choices{Bucket: "my-bucket", KeyPrefix: "in/"})
	ini := writeINI(t, "[AWS]\nRoleArn = "+roleARN+"\nBucketName = my-bucket\nProfile = app-user\n")
	id, err := Resolve(Sources{SettingsPath: p, AppConfig: ini})
	if err != nil {
		t.Fatal(err)
	}
	// The role's ARN means the app profile's key assumes it; the remembered prefix of
	// the same bucket still applies.
	if id.RoleARN != roleARN || id.Profile() != "app-user" || id.KeyPrefix != "in/" || !strings.Contains(id.Source, ini) {
		t.Fatalf("%+v", id)
	}
	ini2 := writeINI(t, "[AWS]\nRoleArn = "+roleARN+"\nBucketName = another-bucket\nProfile = app-user\n")
	if id, err := Resolve(Sources{SettingsPath: p, AppConfig: ini2}); err != nil || id.KeyPrefix != "" || id.Bucket != "another-bucket" {
		t.Fatalf("another bucket kept the remembered prefix: %+v %v", id, err)
	}
}

func TestResolveErrors(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none.json")
	cases := map[string]struct {
		src  Sources
		want string
	}{
		"nothing set up":      {Sources{SettingsPath: none}, "no bucket"},
		"missing app config":  {Sources{SettingsPath: none, AppConfig: filepath.Join(t.TempDir(), "nope.ini")}, "missing or empty"},
		"no AWS section":      {Sources{SettingsPath: none, AppConfig: writeINI(t, "[Other]\nx = 1\n")}, "no [AWS] section"},
		"incomplete section":  {Sources{SettingsPath: none, AppConfig: writeINI(t, "[AWS]\nBucketName = b-1\n")}, "lacks RoleArn, Profile"},
		"not a role ARN":      {Sources{SettingsPath: none, Bucket: "b-1", RoleARN: "arn:aws:iam::123456789012:user/u"}, "is not a role's ARN"},
		"bad bucket":          {Sources{SettingsPath: none, Bucket: "Bad_Bucket"}, "bucket"},
		"prefix without /":    {Sources{SettingsPath: none, Bucket: "b-1", KeyPrefix: "in"}, "ends with /"},
		"profile with spaces": {Sources{SettingsPath: none, Bucket: "b-1", RoleProfile: "a b"}, "not usable"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Resolve(c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// countingProvider hands out credentials that expire after ttl and counts the calls.
type countingProvider struct {
	ttl   time.Duration
	calls atomic.Int32
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(p.ttl)}, nil
}

func TestCacheRenewsBeforeExpiry(t *testing.T) {
	ctx := context.Background()
	// Credentials with more than the window left are reused.
	long := &countingProvider{ttl: time.Hour}
	c := NewCache(long)
	for range 3 {
		if _, err := c.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := long.calls.Load(); n != 1 {
		t.Fatalf("fresh credentials fetched %d times, want once", n)
	}
	// Credentials within the window of their expiry are renewed on the next use, so
	// nothing is signed with credentials about to expire.
	short := &countingProvider{ttl: ExpiryWindow - time.Minute}
	c = NewCache(short)
	for range 2 {
		got, err := c.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(got.Expires) > 0 {
			t.Fatalf("the cache reports credentials within the window as valid until %s", got.Expires)
		}
	}
	if n := short.calls.Load(); n != 2 {
		t.Fatalf("credentials within %s of expiry fetched %d times, want on every use", ExpiryWindow, n)
	}
}

func TestExplainUploadAccessDenied(t *testing.T) {
	c := &Client{Identity: Identity{Bucket: "b-1", KeyPrefix: "in/", RoleProfile: "r"}, RoleARN: roleARN}
	err := c.ExplainUpload("out/x.txt", deniedErr{})
	var fe *awsx.FixError
	if !errors.As(err, &fe) {
		t.Fatalf("%T", err)
	}
	for _, want := range []string{roleARN, "s3://b-1/out/x.txt"} {
		if !strings.Contains(fe.Summary, want) {
			t.Errorf("summary %q lacks %q", fe.Summary, want)
		}
	}
	for _, want := range []string{"outside in/", "iamwizard verify", "get-bucket-policy --bucket b-1", "get-bucket-encryption --bucket b-1", "kms:GenerateDataKey"} {
		if !strings.Contains(fe.Fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, fe.Fix)
		}
	}
}

type deniedErr struct{}

func (deniedErr) Error() string                 { return "api error AccessDenied: Access Denied" }
func (deniedErr) ErrorCode() string             { return "AccessDenied" }
func (deniedErr) ErrorMessage() string          { return "Access Denied" }
func (deniedErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
