// Package upload puts objects into one bucket with the S3 transfer manager: a single
// PutObject for small bodies, a multipart upload for large ones, and an aborted
// multipart upload when anything fails, so no billed parts are left behind.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Defaults of the transfer: 8 MiB parts from 16 MiB on, as the transfer manager does,
// with at most 4 parts in flight so a small server's memory stays bounded (parts are
// buffered in memory).
const (
	DefaultPartSize    = 8 << 20
	DefaultThreshold   = 16 << 20
	DefaultConcurrency = 4
	// MinPartSize is S3's smallest part (all but the last).
	MinPartSize = 5 << 20
	// AbortTimeout bounds the abort of a failed multipart upload, which runs even after
	// the caller's context was cancelled (Ctrl-C), so the parts are not left behind.
	AbortTimeout = 30 * time.Second
)

// Options tune the transfer; zero values take the defaults.
type Options struct {
	PartSize    int64 // bytes per part, at least MinPartSize
	Threshold   int64 // bodies of this size or more go up in parts
	Concurrency int   // parts uploaded at once
}

// Uploader uploads objects into one bucket.
type Uploader struct {
	bucket string
	tm     *tm.Client
}

// New builds an Uploader over an S3 client that acts as the application's role.
func New(client tm.S3APIClient, bucket string, o Options) *Uploader {
	if o.PartSize < MinPartSize {
		o.PartSize = DefaultPartSize
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	return &Uploader{bucket: bucket, tm: tm.New(client, func(t *tm.Options) {
		t.PartSizeBytes = o.PartSize
		t.MultipartUploadThreshold = o.Threshold
		t.Concurrency = o.Concurrency
		t.FailTimeout = AbortTimeout
	})}
}

// Bucket is the bucket the Uploader writes to.
func (u *Uploader) Bucket() string { return u.bucket }

// Progress is told how many bytes of an object have been sent so far.
type Progress func(sent, total int64)

// Object is one object to upload.
type Object struct {
	Key  string
	Body io.Reader // an io.Seeker (a file) lets the size be known up front
	// Size is the body's length when known (-1 otherwise); it makes progress exact.
	Size        int64
	ContentType string   // "" guesses it from the key's extension
	Progress    Progress // nil: no progress
}

// Result is what was stored.
type Result struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	Multipart bool   `json:"multipart"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"version_id,omitempty"`
}

// Put uploads one object. When a multipart upload fails it is aborted, so no billed
// parts are left (the role needs s3:AbortMultipartUpload for that); when even the
// abort fails, the error is an *AbortError naming the upload to remove by hand.
func (u *Uploader) Put(ctx context.Context, obj Object) (Result, error) {
	in := &tm.UploadObjectInput{Bucket: aws.String(u.bucket), Key: aws.String(obj.Key), Body: obj.Body}
	if obj.Size >= 0 {
		in.ContentLength = aws.Int64(obj.Size)
	}
	ct := obj.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(obj.Key))
	}
	if ct != "" {
		in.ContentType = aws.String(ct)
	}
	t := &tracker{}
	opts := []func(*tm.Options){func(o *tm.Options) {
		t.S3APIClient = o.S3
		o.S3 = t
	}}
	if obj.Progress != nil {
		opts = append(opts, func(o *tm.Options) { o.ObjectProgressListeners.Register(progressListener(obj.Progress)) })
	}
	out, err := u.tm.UploadObject(ctx, in, opts...)
	if err != nil {
		return Result{}, u.cleanUp(ctx, t, obj.Key, err)
	}
	return Result{Bucket: u.bucket, Key: obj.Key, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionID),
		Size: aws.ToInt64(out.ContentLength), Multipart: out.UploadID != nil}, nil
}

// cleanUp makes sure a failed multipart upload was aborted. The transfer manager
// aborts by itself but drops the abort's own error, so an abort it could not make
// (a role without s3:AbortMultipartUpload, a network cut) would go unnoticed: parts
// stay billed until a lifecycle rule removes them.
func (u *Uploader) cleanUp(ctx context.Context, t *tracker, key string, cause error) error {
	id, aborted := t.state()
	if id == "" || aborted {
		return cause
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AbortTimeout)
	defer cancel()
	_, err := t.S3APIClient.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(key), UploadId: aws.String(id)})
	if err == nil || isNoSuchUpload(err) {
		return cause
	}
	return &AbortError{Bucket: u.bucket, Key: key, UploadID: id, Err: err, Cause: cause}
}

func isNoSuchUpload(err error) bool {
	var apiErr smithy.APIError
	// NoSuchUpload: the upload completed after all, or was already aborted; nothing is left.
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload"
}

// AbortError is a failed upload whose multipart upload could not be aborted either:
// its parts stay in the bucket, billed, until removed.
type AbortError struct {
	Bucket, Key, UploadID string
	Err                   error // why the abort failed
	Cause                 error // why the upload failed
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("%v; and aborting multipart upload %s failed too (%v): its parts stay in s3://%s/%s until removed with `aws s3api abort-multipart-upload --bucket %s --key %s --upload-id %s` or a lifecycle rule (AbortIncompleteMultipartUpload)",
		e.Cause, e.UploadID, e.Err, e.Bucket, e.Key, e.Bucket, e.Key, e.UploadID)
}

// Unwrap returns the upload's failure, the error to classify.
func (e *AbortError) Unwrap() error { return e.Cause }

// tracker remembers the multipart upload of one Put and whether it was aborted.
type tracker struct {
	tm.S3APIClient
	mu       sync.Mutex
	uploadID string
	aborted  bool
}

func (t *tracker) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	out, err := t.S3APIClient.CreateMultipartUpload(ctx, in, opts...)
	if err == nil {
		t.mu.Lock()
		t.uploadID = aws.ToString(out.UploadId)
		t.mu.Unlock()
	}
	return out, err
}

func (t *tracker) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	out, err := t.S3APIClient.AbortMultipartUpload(ctx, in, opts...)
	t.mu.Lock()
	t.aborted = err == nil || isNoSuchUpload(err)
	t.mu.Unlock()
	return out, err
}

func (t *tracker) state() (uploadID string, aborted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.uploadID, t.aborted
}

type progressListener Progress

func (p progressListener) OnObjectTransferStart(_ context.Context, e *tm.ObjectTransferStartEvent) {
	p(0, e.TotalBytes)
}

func (p progressListener) OnObjectBytesTransferred(_ context.Context, e *tm.ObjectBytesTransferredEvent) {
	p(e.BytesTransferred, e.TotalBytes)
}
