// Package testenv gives tests the local AWS-API emulator that the test command starts
// once for the whole run (scripts/test.sh), and isolates each test's home, settings
// and shared files so tests never touch the developer's own AWS configuration.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Env is a running emulator and its static admin identity.
type Env struct {
	Endpoint  string
	AccessKey string
	Secret    string
}

// Emulator returns the emulator started by the test command. Without one the test is
// skipped, unless IAMWIZARD_REQUIRE_EMULATOR=1 (set by the test command and CI), where
// a missing emulator is a failure, never a silent skip.
func Emulator(t testing.TB) Env {
	t.Helper()
	e := Env{
		Endpoint:  os.Getenv("IAMWIZARD_TEST_ENDPOINT"),
		AccessKey: os.Getenv("IAMWIZARD_TEST_ADMIN_KEY"),
		Secret:    os.Getenv("IAMWIZARD_TEST_ADMIN_SECRET"),
	}
	if e.Endpoint == "" || e.AccessKey == "" || e.Secret == "" {
		if os.Getenv("IAMWIZARD_REQUIRE_EMULATOR") == "1" {
			t.Fatal("IAMWIZARD_TEST_ENDPOINT is not set: run the tests with scripts/test.sh, which starts the emulator")
		}
		t.Skip("no emulator: run scripts/test.sh to include the end-to-end tests")
	}
	return e
}

// Unique returns prefix plus a random suffix, for names that must not collide
// between tests sharing one emulator.
func Unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Isolate points HOME, the config directory, the settings file and the SDK's shared
// files into a fresh temporary directory, and makes the emulator's admin the identity
// in the environment (as an administrator's shell would have it). It returns the home.
func (e Env) Isolate(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("IAMWIZARD_SETTINGS", filepath.Join(home, ".config", "iamwizard", "settings.json"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_ACCESS_KEY_ID", e.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", e.Secret)
	t.Setenv("AWS_REGION", "us-east-1")
	for _, v := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM"} {
		t.Setenv(v, "")
		_ = os.Unsetenv(v)
	}
	return home
}

// AdminConfig is an aws.Config as the emulator's admin, for setting up and checking
// state out of band.
func (e Env) AdminConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(e.AccessKey, e.Secret, ""),
	}
}

// IAM is an admin IAM client.
func (e Env) IAM() *iam.Client { return iam.NewFromConfig(e.AdminConfig()) }

// STS is an admin STS client.
func (e Env) STS() *sts.Client { return sts.NewFromConfig(e.AdminConfig()) }

// S3 is an admin S3 client (path-style, as for any custom endpoint).
func (e Env) S3() *s3.Client {
	return s3.NewFromConfig(e.AdminConfig(), func(o *s3.Options) { o.UsePathStyle = true })
}

// Bucket creates a fresh bucket for the test and returns its name.
func (e Env) Bucket(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(Unique("iamwizard-test-"))
	if _, err := e.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	// Every bucket takes storage of its own on the emulator: give it back.
	t.Cleanup(func() { e.removeBucket(name) })
	return name
}

// removeBucket empties and deletes a test bucket; it is best effort (a test may have
// deleted the bucket itself).
func (e Env) removeBucket(name string) {
	ctx := context.Background()
	client := e.S3()
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key})
		}
	}
	_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
}
