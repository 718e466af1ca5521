package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/appclient"
	"github.com/iamwizard/iamwizard/internal/appclient/apptest"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/testenv"
	"github.com/iamwizard/iamwizard/internal/upload"
)

// small makes every test file of a few MiB go up in 5 MiB parts.
var small = upload.Options{PartSize: upload.MinPartSize, Threshold: upload.MinPartSize, Concurrency: 2}

func connect(t *testing.T) (apptest.Setup, *appclient.Client) {
	t.Helper()
	s := apptest.New(t)
	c := apptest.Connect(t)
	return s, c
}

func randomFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	p := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func readBack(t *testing.T, env testenv.Env, bucket, key string) []byte {
	t.Helper()
	out, err := env.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("admin reading s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutThroughTheRoleSmallAndMultipart(t *testing.T) {
	s, c := connect(t)
	u := upload.New(c.S3, s.Bucket, small)
	for _, tc := range []struct {
		name      string
		size      int
		multipart bool
	}{{"small", 1000, false}, {"multipart", 12 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			p, data := randomFile(t, tc.size)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var last, calls atomic.Int64
			key := apptest.Prefix + tc.name + ".bin"
			res, err := u.Put(context.Background(), upload.Object{Key: key, Body: f, Size: int64(tc.size),
				Progress: func(sent, total int64) { last.Store(sent); calls.Add(1) }})
			if err != nil {
				t.Fatal(c.ExplainUpload(key, err))
			}
			if res.Bucket != s.Bucket || res.Key != key || res.Multipart != tc.multipart || res.Size != int64(tc.size) {
				t.Fatalf("result %+v", res)
			}
			if last.Load() != int64(tc.size) || calls.Load() < 2 {
				t.Fatalf("progress ended at %d after %d reports, want %d", last.Load(), calls.Load(), tc.size)
			}
			if got := readBack(t, s.Env, s.Bucket, key); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, differing from the %d uploaded", len(got), len(data))
			}
		})
	}
}

// failing makes one kind of S3 call fail with a non-retryable AccessDenied, as S3
// would, and passes every other call (the abort included) through to the emulator.
type failing struct {
	tm.S3APIClient
	part, complete, abort bool
	hits                  atomic.Int64
}

func (f *failing) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	if f.abort {
		return nil, injected
	}
	return f.S3APIClient.AbortMultipartUpload(ctx, in, opts...)
}

var injected = &smithy.GenericAPIError{Code: "AccessDenied", Message: "injected by the test"}

func (f *failing) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if f.part && aws.ToInt32(in.PartNumber) == 2 {
		f.hits.Add(1)
		return nil, injected
	}
	return f.S3APIClient.UploadPart(ctx, in, opts...)
}

func (f *failing) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if f.complete {
		f.hits.Add(1)
		return nil, injected
	}
	return f.S3APIClient.CompleteMultipartUpload(ctx, in, opts...)
}

func TestFailedMultipartUploadIsAborted(t *testing.T) {
	for name, complete := range map[string]bool{"a part fails": false, "complete fails": true} {
		t.Run(name, func(t *testing.T) {
			s, c := connect(t)
			f := &failing{S3APIClient: c.S3, part: !complete, complete: complete}
			u := upload.New(f, s.Bucket, small)
			p, _ := randomFile(t, 12<<20)
			file, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			key := apptest.Prefix + "aborted.bin"
			_, err = u.Put(context.Background(), upload.Object{Key: key, Body: file, Size: 12 << 20})
			if err == nil || f.hits.Load() == 0 {
				t.Fatalf("the upload did not fail (err %v, injected %d)", err, f.hits.Load())
			}
			var ae *upload.AbortError
			if errors.As(err, &ae) {
				t.Fatalf("the abort failed: %v", err)
			}
			if !awsx.IsAccessDenied(err) {
				t.Fatalf("the error does not keep its cause: %v", err)
			}
			ctx := context.Background()
			list, err := s.Env.S3().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.Bucket})
			if err != nil {
				t.Fatalf("admin ListMultipartUploads: %v", err)
			}
			for _, up := range list.Uploads {
				t.Errorf("multipart upload %s of %s is left in the bucket", *up.UploadId, *up.Key)
			}
			if _, err := s.Env.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key}); !awsx.IsNotFound(err) {
				t.Errorf("the object exists after a failed upload (HeadObject: %v)", err)
			}
		})
	}
}

// TestFailedAbortIsReported is also the control of the test above: it shows that the
// admin's listing does see a multipart upload that was left behind.
func TestFailedAbortIsReported(t *testing.T) {
	s, c := connect(t)
	f := &failing{S3APIClient: c.S3, part: true, abort: true}
	u := upload.New(f, s.Bucket, small)
	key := apptest.Prefix + "left-behind.bin"
	_, err := u.Put(context.Background(), upload.Object{Key: key, Body: bytes.NewReader(make([]byte, 12<<20)), Size: 12 << 20})
	var ae *upload.AbortError
	if !errors.As(err, &ae) || ae.UploadID == "" || ae.Key != key || !strings.Contains(err.Error(), "abort-multipart-upload") {
		t.Fatalf("want an AbortError naming the upload, got %v", err)
	}
	ctx := context.Background()
	list, err := s.Env.S3().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Uploads) != 1 || aws.ToString(list.Uploads[0].UploadId) != ae.UploadID {
		t.Fatalf("the admin's listing does not show the upload left behind (%d uploads)", len(list.Uploads))
	}
	if _, err := s.Env.S3().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.Bucket, Key: &key, UploadId: &ae.UploadID}); err != nil {
		t.Fatal(err)
	}
}
