// Package apptest creates a real iamwizard setup on the test emulator and then takes
// the administrator's identity away, so tests act as the application only.
package apptest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwizard/iamwizard/internal/appclient"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

// Prefix is the key prefix of every test setup.
const Prefix = "uploads/"

// Setup is an applied setup.
type Setup struct {
	Env     testenv.Env
	Bucket  string
	Choices settings.Choices // as remembered in the settings file
	RoleARN string
	Home    string
}

// New isolates the test, creates a bucket and applies a setup with unique names through
// the engine (as `iamwizard apply` would), then removes the admin identity from the
// environment and checks that the credentials file holds only the application's key.
func New(t *testing.T) Setup {
	t.Helper()
	env := testenv.Emulator(t)
	home := env.Isolate(t)
	bucket := env.Bucket(t)
	t.Cleanup(func() { removeBucket(t, env, bucket) })
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{
		Choices: settings.Choices{
			EndpointURL: env.Endpoint, Bucket: bucket, KeyPrefix: Prefix,
			UserName: testenv.Unique("u-"), RoleName: testenv.Unique("r-"),
			UserPolicyName: testenv.Unique("up-"), RolePolicyName: testenv.Unique("rp-"),
		},
		Store: settings.Store{Path: os.Getenv("IAMWIZARD_SETTINGS")},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	s := Setup{Env: env, Bucket: bucket, Choices: e.Choices(), RoleARN: e.Setup().RoleARN(), Home: home}
	DropAdmin(t, s.Choices.CredentialsFile, s.Choices.AppProfile)
	return s
}

// DropAdmin unsets the admin's keys in the environment (restored after the test) and
// fails the test if the credentials file holds any profile but the application's.
func DropAdmin(t *testing.T, credentialsFile, appProfile string) {
	t.Helper()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(v, "")
		_ = os.Unsetenv(v)
	}
	sections, err := creds.Read(credentialsFile)
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Emulator(t)
	for name, kv := range sections {
		if name != appProfile {
			t.Fatalf("the credentials file holds profile [%s] besides the application's [%s]", name, appProfile)
		}
		if strings.EqualFold(kv["aws_access_key_id"], env.AccessKey) {
			t.Fatalf("the application's profile holds the admin key")
		}
	}
}

// removeBucket empties and deletes a test bucket: the emulator gives every bucket its
// own storage volumes, and runs out of them when test buckets pile up.
func removeBucket(t *testing.T, env testenv.Env, bucket string) {
	ctx := context.Background()
	c := env.S3()
	if ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket}); err == nil {
		for _, u := range ups.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Logf("removing test bucket %s: %v", bucket, err)
	}
}

// Connect resolves the application's identity from the remembered settings and
// connects as the role, as `iamwizard upload` does; any error fails the test.
func Connect(t testing.TB) *appclient.Client {
	t.Helper()
	id, err := appclient.Resolve(appclient.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := appclient.Connect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
