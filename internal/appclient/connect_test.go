package appclient_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/appclient"
	"github.com/iamwizard/iamwizard/internal/appclient/apptest"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
)

// putAsRole uploads a small object with c and checks it with the admin client.
func putAsRole(t *testing.T, s apptest.Setup, c *appclient.Client) {
	t.Helper()
	ctx := context.Background()
	key := apptest.Prefix + "connect-" + time.Now().Format("150405.000000") + ".txt"
	body := []byte("hello from the role")
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.Bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put as role: %v", c.ExplainUpload(key, err))
	}
	got, err := s.Env.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("admin read back: %v", err)
	}
	defer got.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(got.Body)
	if !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("read back %q", buf.String())
	}
}

// whoAmI checks that c acts as the setup's role, not as the admin or the user.
func whoAmI(t *testing.T, s apptest.Setup, c *appclient.Client) {
	t.Helper()
	out, err := sts.NewFromConfig(c.Config).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Arn)
	role := s.RoleARN[strings.LastIndex(s.RoleARN, "/")+1:]
	if !strings.Contains(arn, "assumed-role/"+role+"/") {
		t.Fatalf("the client is %s, not the role %s", arn, s.RoleARN)
	}
}

func TestConnectWithRememberedSettingsUsesTheRoleProfile(t *testing.T) {
	s := apptest.New(t)
	id, err := appclient.Resolve(appclient.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	if id.RoleARN != "" || id.Profile() != s.Choices.RoleProfile || id.Bucket != s.Bucket || id.KeyPrefix != apptest.Prefix {
		t.Fatalf("resolved %+v", id)
	}
	c, err := appclient.Connect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.RoleARN != s.RoleARN {
		t.Fatalf("role %q, want %q", c.RoleARN, s.RoleARN)
	}
	whoAmI(t, s, c)
	putAsRole(t, s, c)
}

func TestConnectWithClassicAppConfigAssumesTheRoleARN(t *testing.T) {
	s := apptest.New(t)
	// The classic application's file, on a machine without iamwizard's settings.
	appConfig := filepath.Join(t.TempDir(), "config.ini")
	if _, err := creds.Apply(appConfig, []creds.Section{{Name: "AWS", Keys: []creds.KV{
		{Key: "RoleArn", Value: s.RoleARN}, {Key: "BucketName", Value: s.Bucket}, {Key: "Profile", Value: s.Choices.AppProfile},
	}}}, creds.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(os.Getenv("IAMWIZARD_SETTINGS")); err != nil {
		t.Fatal(err)
	}
	id, err := appclient.Resolve(appclient.Sources{AppConfig: appConfig, KeyPrefix: apptest.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if id.RoleARN != s.RoleARN || id.Profile() != s.Choices.AppProfile {
		t.Fatalf("resolved %+v", id)
	}
	c, err := appclient.Connect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	whoAmI(t, s, c)
	putAsRole(t, s, c)
}

func TestConnectFollowsAWSEndpointURLForAssumeRole(t *testing.T) {
	s := apptest.New(t)
	// The SDK bug: with only AWS_ENDPOINT_URL set, its assume-role provider would call
	// AWS's STS, which does not know the emulator's key.
	t.Setenv("AWS_ENDPOINT_URL", s.Env.Endpoint)
	c := apptest.Connect(t)
	whoAmI(t, s, c)
	putAsRole(t, s, c)
}

func TestConnectIgnoresAdminCredentialsInTheEnvironment(t *testing.T) {
	s := apptest.New(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s.Env.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Env.Secret)
	c := apptest.Connect(t)
	whoAmI(t, s, c)
}

func TestRoleCredentialsAreCachedWithTheExpiryWindow(t *testing.T) {
	s := apptest.New(t)
	ctx := context.Background()
	id, err := appclient.Resolve(appclient.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := appclient.Connect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Config.Credentials.(*aws.CredentialsCache); !ok {
		t.Fatalf("credentials are a %T, not a cache", c.Config.Credentials)
	}
	cached, err := c.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The same role assumed without a cache shows when the session really ends.
	appCfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(s.Choices.AppProfile),
		config.WithSharedCredentialsFiles([]string{s.Choices.CredentialsFile}), config.WithSharedConfigFiles([]string{s.Choices.ConfigFile}))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(appCfg), s.RoleARN).Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	early := raw.Expires.Sub(cached.Expires)
	if early < appclient.ExpiryWindow-time.Minute || early > appclient.ExpiryWindow+time.Minute {
		t.Fatalf("the cache renews %s before the session ends, want %s", early.Round(time.Second), appclient.ExpiryWindow)
	}
}

func TestConnectNamesAMissingProfile(t *testing.T) {
	s := apptest.New(t)
	id, err := appclient.Resolve(appclient.Sources{RoleProfile: "no-such-profile"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = appclient.Connect(context.Background(), id)
	var fe *awsx.FixError
	if !errors.As(err, &fe) || !strings.Contains(fe.Summary, "[no-such-profile]") || !strings.Contains(fe.Summary, s.Choices.ConfigFile) {
		t.Fatalf("error %v does not name the profile and the file", err)
	}
	t.Log(err)
}
