package upload_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/upload"
)

// fakeS3 is an in-memory S3 whose part 2 fails and whose abort may fail too.
type fakeS3 struct {
	tm.S3APIClient // nil: calls the test does not expect panic
	abortFails     bool
	mu             sync.Mutex
	aborts         int
	puts           int
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	_, _ = io.Copy(io.Discard, in.Body)
	f.mu.Lock()
	f.puts++
	f.mu.Unlock()
	return &s3.PutObjectOutput{ETag: aws.String(`"e"`)}, nil
}

func (f *fakeS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("upload-1")}, nil
}

func (f *fakeS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if aws.ToInt32(in.PartNumber) == 2 {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	}
	return &s3.UploadPartOutput{ETag: aws.String(`"p"`)}, nil
}

func (f *fakeS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aborts++
	if f.abortFails {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no abort"}
	}
	return &s3.AbortMultipartUploadOutput{}, nil
}

var fakeOptions = upload.Options{PartSize: upload.MinPartSize, Threshold: upload.MinPartSize, Concurrency: 1}

func TestSmallBodyIsOnePut(t *testing.T) {
	f := &fakeS3{}
	res, err := upload.New(f, "b", fakeOptions).Put(context.Background(), upload.Object{Key: "k.txt", Body: bytes.NewReader([]byte("x")), Size: 1})
	if err != nil || f.puts != 1 || res.Multipart || res.Bucket != "b" || res.Key != "k.txt" {
		t.Fatalf("res %+v err %v puts %d", res, err, f.puts)
	}
}

func TestFailedPartAbortsOnce(t *testing.T) {
	f := &fakeS3{}
	_, err := upload.New(f, "b", fakeOptions).Put(context.Background(), upload.Object{Key: "k", Body: bytes.NewReader(make([]byte, 12<<20)), Size: 12 << 20})
	var ae *upload.AbortError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("want the part's failure alone, got %v", err)
	}
	if f.aborts != 1 {
		t.Fatalf("aborted %d times, want once", f.aborts)
	}
}

func TestFailedAbortIsRetriedAndNamed(t *testing.T) {
	f := &fakeS3{abortFails: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := upload.New(f, "b", fakeOptions).Put(ctx, upload.Object{Key: "k", Body: bytes.NewReader(make([]byte, 12<<20)), Size: 12 << 20})
	var ae *upload.AbortError
	if !errors.As(err, &ae) || ae.UploadID != "upload-1" || ae.Bucket != "b" || ae.Key != "k" {
		t.Fatalf("want an AbortError for upload-1, got %v", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorMessage() != "no" {
		t.Fatalf("the AbortError does not unwrap to the upload's own failure: %v", err)
	}
	if f.aborts != 2 {
		t.Fatalf("abort tried %d times, want the transfer manager's and one more", f.aborts)
	}
}
