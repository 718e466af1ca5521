package awsproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

// TestAgainstEmulator runs real SDK traffic through the proxy to a running
// emulator (scripts/emulator.sh start DIR), proving that the emulator accepts
// the forwarded SigV4 signatures. It is skipped unless IAMWIZARD_EMU_URL is
// set, e.g. to http://127.0.0.1:8333; the admin key defaults to the script's.
func TestAgainstEmulator(t *testing.T) {
	endpoint := os.Getenv("IAMWIZARD_EMU_URL")
	if endpoint == "" {
		t.Skip("IAMWIZARD_EMU_URL not set")
	}
	akid := envOr("IAMWIZARD_EMU_ADMIN_KEY", "AKIAEMULATORADMIN000")
	secret := envOr("IAMWIZARD_EMU_ADMIN_SECRET", "emulator-admin-secret-not-a-real-key")

	p, err := awsproxy.Start(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	cfg := func(akid, secret string) aws.Config {
		return aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
			BaseEndpoint: aws.String(p.URL()),
			Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		}
	}
	admIAM := iam.NewFromConfig(cfg(akid, secret))
	admS3 := s3.NewFromConfig(cfg(akid, secret), func(o *s3.Options) { o.UsePathStyle = true })

	user := fmt.Sprintf("awsproxy-test-%d", time.Now().UnixNano())
	if _, err := admIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatalf("CreateUser through the proxy: %v", err)
	}
	defer admIAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(user)})
	key, err := admIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	newID, newSecret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	defer admIAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(newID)})

	// The emulator knows the new key at once; AWS takes seconds. Emulate AWS.
	remove := p.AddFault(awsproxy.HideNewKeys([]string{akid}, time.Hour, nil))
	appSTS := sts.NewFromConfig(cfg(newID, newSecret))
	_, err = appSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("hidden new key: want InvalidClientTokenId, got %v", err)
	}
	remove()
	if _, err := appSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity with the new key through the proxy: %v", err)
	}

	bucket := fmt.Sprintf("awsproxy-%d", time.Now().UnixNano())
	objKey := "dir/a b+c=d&e~(1).txt"
	data := bytes.Repeat([]byte("awsproxy"), 1<<17)
	steps := []struct {
		name string
		run  func() error
	}{
		{"CreateBucket", func() error {
			_, err := admS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			return err
		}},
		{"PutObject", func() error {
			_, err := admS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey), Body: bytes.NewReader(data)})
			return err
		}},
		{"GetObject", func() error {
			out, err := admS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey)})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			if err == nil && !bytes.Equal(b, data) {
				err = fmt.Errorf("got %d bytes back, want %d", len(b), len(data))
			}
			return err
		}},
		{"ListObjectsV2", func() error {
			_, err := admS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			return err
		}},
		{"DeleteObject", func() error {
			_, err := admS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey)})
			return err
		}},
		{"DeleteBucket", func() error {
			_, err := admS3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Errorf("%s through the proxy: %v", s.name, err)
		}
	}

	var got []string
	for _, c := range p.Calls() {
		got = append(got, fmt.Sprintf("%s:%s:%d:%s", c.Service, c.Operation, c.Status, c.Injected))
	}
	want := []string{
		"iam:CreateUser:200:", "iam:CreateAccessKey:200:",
		"sts:GetCallerIdentity:403:HideNewKeys", "sts:GetCallerIdentity:200:",
		"s3:CreateBucket:200:", "s3:PutObject:200:", "s3:GetObject:200:",
		"s3:ListObjectsV2:200:", "s3:DeleteObject:204:", "s3:DeleteBucket:204:",
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
