package awsproxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

type call struct {
	Service, Operation, AccessKeyID string
	Status                          int
	Injected                        string
}

func summarize(cs []awsproxy.Call) []call {
	out := make([]call, len(cs))
	for i, c := range cs {
		out[i] = call{c.Service, c.Operation, c.AccessKeyID, c.Status, c.Injected}
	}
	return out
}

func checkCalls(t *testing.T, p *awsproxy.Proxy, want []call) {
	t.Helper()
	got := summarize(p.Calls())
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
}

// apiCode returns the AWS error code of err, failing the test if err is not
// an API error.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %T: %v", err, err)
	}
	return ae.ErrorCode()
}

func TestClassifiesSDKCalls(t *testing.T) {
	u, p := setup(t)
	ctx := context.Background()
	admIAM, appSTS, s3c := iamClient(p, adminKey), stsClient(p, appKey), s3Client(p, adminKey)

	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))
	must(admIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}))
	must(appSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	must(s3c.ListBuckets(ctx, &s3.ListBucketsInput{}))
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}))
	must(s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt")}))
	// A key whose escaping must survive the proxy for the signature to verify.
	key := "dir/a b+c=d&e~(1).txt"
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: bytes.NewReader(data)}))
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("GetObject returned %d bytes (err %v), want the %d put", len(b), err, len(data))
	}
	must(s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)}))
	must(s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}))
	must(s3c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("bkt")}))
	mpu, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := s3c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("big"), UploadId: mpu.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part one")})
	if err != nil {
		t.Fatal(err)
	}
	must(s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("bkt"), Key: aws.String("big"), UploadId: mpu.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	}))
	mpu2, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	must(s3c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("gone"), UploadId: mpu2.UploadId}))
	must(s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)}))

	checkCalls(t, p, []call{
		{"iam", "GetUser", adminKey, 200, ""},
		{"iam", "CreateRole", adminKey, 200, ""},
		{"sts", "GetCallerIdentity", appKey, 200, ""},
		{"s3", "ListBuckets", adminKey, 200, ""},
		{"s3", "CreateBucket", adminKey, 200, ""},
		{"s3", "HeadBucket", adminKey, 200, ""},
		{"s3", "PutObject", adminKey, 200, ""},
		{"s3", "GetObject", adminKey, 200, ""},
		{"s3", "HeadObject", adminKey, 200, ""},
		{"s3", "ListObjectsV2", adminKey, 200, ""},
		{"s3", "GetBucketLocation", adminKey, 200, ""},
		{"s3", "CreateMultipartUpload", adminKey, 200, ""},
		{"s3", "UploadPart", adminKey, 200, ""},
		{"s3", "CompleteMultipartUpload", adminKey, 200, ""},
		{"s3", "CreateMultipartUpload", adminKey, 200, ""},
		{"s3", "AbortMultipartUpload", adminKey, 204, ""},
		{"s3", "DeleteObject", adminKey, 204, ""},
	})
	if w := p.IAMWrites(); len(w) != 1 || w[0].Operation != "CreateRole" {
		t.Errorf("IAMWrites = %v, want just CreateRole", summarize(w))
	}
	if c := p.Counts(); c["s3:CreateMultipartUpload"] != 2 || c["iam:GetUser"] != 1 {
		t.Errorf("Counts = %v", c)
	}
	if n := p.Count(func(c awsproxy.Call) bool { return c.AccessKeyID == appKey }); n != 1 {
		t.Errorf("Count(app key) = %d, want 1", n)
	}
	if u.requestCount() != 17 {
		t.Errorf("upstream saw %d requests, want 17", u.requestCount())
	}

	p.Reset()
	if n := len(p.Calls()); n != 0 {
		t.Errorf("after Reset, %d calls", n)
	}
	must(admIAM.ListRoles(ctx, &iam.ListRolesInput{}))
	checkCalls(t, p, []call{{"iam", "ListRoles", adminKey, 200, ""}})
	if len(p.IAMWrites()) != 0 {
		t.Errorf("ListRoles counted as a write")
	}
}

func TestErrorFaultGivesTypedErrors(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	adm, s3c := iamClient(p, adminKey), s3Client(p, adminKey)

	p.AddFault(awsproxy.ErrorFault("gone", awsproxy.ByOperation("GetRole"), 404, "NoSuchEntity", "The role with name r cannot be found.", 2))
	for i := range 3 {
		_, err := adm.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
		var nse *iamtypes.NoSuchEntityException
		if i < 2 && !errors.As(err, &nse) {
			t.Errorf("GetRole #%d: want *types.NoSuchEntityException, got %T %v", i, err, err)
		}
		if i == 2 && err != nil {
			t.Errorf("GetRole #%d after Times ran out: %v", i, err)
		}
	}

	principal := `Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:role/new"`
	p.AddFault(awsproxy.ErrorFault("principal",
		func(c awsproxy.Call, body []byte) bool {
			return c.Operation == "CreateRole" && bytes.Contains(body, []byte("RoleName=needs-principal"))
		}, 400, "MalformedPolicyDocument", principal, 0))
	_, err := adm.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("needs-principal"), AssumeRolePolicyDocument: aws.String("{}")})
	var mpd *iamtypes.MalformedPolicyDocumentException
	if !errors.As(err, &mpd) || apiCode(t, err) != "MalformedPolicyDocument" || mpd.ErrorMessage() != principal {
		t.Errorf("CreateRole: want MalformedPolicyDocument %q, got %v", principal, err)
	}
	if _, err := adm.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other"), AssumeRolePolicyDocument: aws.String("{}")}); err != nil {
		t.Errorf("CreateRole of another role matched the body filter: %v", err)
	}

	p.AddFault(awsproxy.ErrorFault("nobucket", awsproxy.ByOperation("ListObjectsV2"), 404, "NoSuchBucket", "The specified bucket does not exist", 1))
	_, err = s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
	var nsb *s3types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Errorf("ListObjectsV2: want *types.NoSuchBucket, got %T %v", err, err)
	}

	// HEAD errors carry no body: the SDK derives the error from the status.
	p.AddFault(awsproxy.ErrorFault("nokey", awsproxy.ByOperation("HeadObject"), 404, "NoSuchKey", "no such key", 1))
	_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject: want *types.NotFound, got %T %v", err, err)
	}
	p.AddFault(awsproxy.ErrorFault("denied", awsproxy.ByOperation("HeadBucket"), 403, "AccessDenied", "Access Denied", 1))
	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b")})
	if code := apiCode(t, err); code != "Forbidden" {
		t.Errorf("HeadBucket 403: code %q, want Forbidden", code)
	}

	checkCalls(t, p, []call{
		{"iam", "GetRole", adminKey, 404, "gone"},
		{"iam", "GetRole", adminKey, 404, "gone"},
		{"iam", "GetRole", adminKey, 200, ""},
		{"iam", "CreateRole", adminKey, 400, "principal"},
		{"iam", "CreateRole", adminKey, 200, ""},
		{"s3", "ListObjectsV2", adminKey, 404, "nobucket"},
		{"s3", "HeadObject", adminKey, 404, "nokey"},
		{"s3", "HeadBucket", adminKey, 403, "denied"},
	})
}

func TestThrottleAndServerErrorCodes(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	adm, st, s3c := iamClient(p, adminKey), stsClient(p, adminKey), s3Client(p, adminKey)

	remove := p.AddFault(awsproxy.Throttle(1, 1))
	_, err := adm.ListRoles(ctx, &iam.ListRolesInput{})
	if code := apiCode(t, err); code != "Throttling" {
		t.Errorf("IAM throttled: code %q", code)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Errorf("IAM throttled: status %d, want 400", re.HTTPStatusCode())
	}
	_, err = st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "Throttling" {
		t.Errorf("STS throttled: code %q", code)
	}
	_, err = s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if code := apiCode(t, err); code != "SlowDown" {
		t.Errorf("S3 throttled: code %q", code)
	}
	remove()

	p.AddFault(awsproxy.ServerError(1, 1))
	_, err = st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "InternalFailure" {
		t.Errorf("STS 500: code %q", code)
	}
	_, err = s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if code := apiCode(t, err); code != "InternalError" {
		t.Errorf("S3 500: code %q", code)
	}
	checkCalls(t, p, []call{
		{"iam", "ListRoles", adminKey, 400, "Throttle"},
		{"sts", "GetCallerIdentity", adminKey, 400, "Throttle"},
		{"s3", "ListBuckets", adminKey, 503, "Throttle"},
		{"sts", "GetCallerIdentity", adminKey, 500, "ServerError"},
		{"s3", "ListBuckets", adminKey, 500, "ServerError"},
	})
}

// throttledPattern makes n sequential STS calls through a fresh proxy with
// Throttle(rate, seed) and returns which ones were throttled.
func throttledPattern(t *testing.T, n int, rate float64, seed int64) []bool {
	t.Helper()
	u := newUpstream()
	defer u.srv.Close()
	p, err := awsproxy.Start(u.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u.expectHost(strings.TrimPrefix(p.URL(), "http://"))
	p.AddFault(awsproxy.Throttle(rate, seed))
	st := stsClient(p, adminKey)
	out := make([]bool, n)
	for i := range out {
		_, err := st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil && apiCode(t, err) != "Throttling" {
			t.Fatalf("call %d: %v", i, err)
		}
		out[i] = err != nil
	}
	for i, c := range p.Calls() {
		if (c.Injected == "Throttle") != out[i] {
			t.Errorf("call %d: Injected %q but client error %v", i, c.Injected, out[i])
		}
	}
	for _, pr := range u.problemList() {
		t.Errorf("upstream: %s", pr)
	}
	return out
}

func TestThrottleRateIsDeterministic(t *testing.T) {
	const n = 300
	a := throttledPattern(t, n, 0.2, 42)
	b := throttledPattern(t, n, 0.2, 42)
	c := throttledPattern(t, n, 0.2, 43)
	hits := 0
	for _, x := range a {
		if x {
			hits++
		}
	}
	if hits < n*15/100 || hits > n*25/100 {
		t.Errorf("Throttle(0.2) throttled %d of %d calls", hits, n)
	}
	if !slices.Equal(a, b) {
		t.Errorf("same seed gave different throttling sequences")
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds gave the same throttling sequence")
	}
}

func TestDefaultRetryerRetriesOne500(t *testing.T) {
	_, p := setup(t)
	f := awsproxy.ServerError(1, 0)
	f.Times = 1
	p.AddFault(f)
	st := sts.NewFromConfig(awsConfig(p, adminKey, true)) // SDK default retryer
	out, err := st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with retries: %v", err)
	}
	if aws.ToString(out.Account) != "000000000000" {
		t.Errorf("Account = %q", aws.ToString(out.Account))
	}
	checkCalls(t, p, []call{
		{"sts", "GetCallerIdentity", adminKey, 500, "ServerError"},
		{"sts", "GetCallerIdentity", adminKey, 200, ""},
	})
}

func TestDropConnection(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	st := stsClient(p, adminKey)
	// Warm a keep-alive connection first: the drop must surface even on a
	// reused connection.
	if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	p.AddFault(awsproxy.DropConnection(awsproxy.ByOperation("GetCallerIdentity"), 1))
	_, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	var se *smithyhttp.RequestSendError
	if err == nil || errors.As(err, &ae) || !errors.As(err, &se) {
		t.Errorf("dropped call: want a transport error (RequestSendError), got %T %v", err, err)
	}
	if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("after the one drop: %v", err)
	}
	checkCalls(t, p, []call{
		{"sts", "GetCallerIdentity", adminKey, 200, ""},
		{"sts", "GetCallerIdentity", adminKey, 0, "DropConnection"},
		{"sts", "GetCallerIdentity", adminKey, 200, ""},
	})
}

// clock is a settable fake time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestHideAccessKey(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.AddFault(awsproxy.HideAccessKey(appKey, 10*time.Second, clk.Now))

	_, err := stsClient(p, appKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Errorf("STS with new key: code %q", code)
	}
	_, err = iamClient(p, appKey).GetUser(ctx, &iam.GetUserInput{})
	if code := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Errorf("IAM with new key: code %q", code)
	}
	_, err = s3Client(p, appKey).ListBuckets(ctx, &s3.ListBucketsInput{})
	if code := apiCode(t, err); code != "InvalidAccessKeyId" {
		t.Errorf("S3 with new key: code %q", code)
	}
	if _, err := stsClient(p, adminKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("admin key hidden too: %v", err)
	}
	clk.Advance(9 * time.Second)
	if _, err := stsClient(p, appKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Errorf("key visible after 9s of 10s")
	}
	clk.Advance(time.Second)
	if _, err := stsClient(p, appKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("key still hidden after 10s: %v", err)
	}
	checkCalls(t, p, []call{
		{"sts", "GetCallerIdentity", appKey, 403, "HideAccessKey"},
		{"iam", "GetUser", appKey, 403, "HideAccessKey"},
		{"s3", "ListBuckets", appKey, 403, "HideAccessKey"},
		{"sts", "GetCallerIdentity", adminKey, 200, ""},
		{"sts", "GetCallerIdentity", appKey, 403, "HideAccessKey"},
		{"sts", "GetCallerIdentity", appKey, 200, ""},
	})
}

func TestHideAccessKeyFrom(t *testing.T) {
	_, p := setup(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.AddFault(awsproxy.HideAccessKeyFrom(appKey, clk.Now().Add(-4*time.Second), 5*time.Second, clk.Now))
	st := stsClient(p, appKey)
	if _, err := st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Errorf("key visible 4s into a 5s window")
	}
	clk.Advance(time.Second)
	if _, err := st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("key hidden at the end of the window: %v", err)
	}
}

func TestHideNewKeys(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.AddFault(awsproxy.HideNewKeys([]string{adminKey}, 10*time.Second, clk.Now))
	ok := func(akid string) bool {
		_, err := stsClient(p, akid).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil && apiCode(t, err) != "InvalidClientTokenId" {
			t.Fatalf("%s: %v", akid, err)
		}
		return err == nil
	}
	type step struct {
		akid string
		want bool
	}
	run := func(steps ...step) {
		t.Helper()
		for _, s := range steps {
			if got := ok(s.akid); got != s.want {
				t.Errorf("t+%v %s: works=%v, want %v", clk.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), s.akid, got, s.want)
			}
		}
	}
	run(step{adminKey, true}, step{newKeyA, false})
	clk.Advance(5 * time.Second)
	run(step{newKeyA, false}, step{newKeyB, false}, step{adminKey, true})
	clk.Advance(5 * time.Second)
	run(step{newKeyA, true}, step{newKeyB, false})
	clk.Advance(5 * time.Second)
	run(step{newKeyA, true}, step{newKeyB, true})
}

func TestFaultOrderRemoveAndTimes(t *testing.T) {
	_, p := setup(t)
	st := stsClient(p, adminKey)
	get := func() error {
		_, err := st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	removeFirst := p.AddFault(awsproxy.ErrorFault("first", nil, 400, "First", "first", 0))
	p.AddFault(awsproxy.ErrorFault("second", awsproxy.ByService("sts"), 400, "Second", "second", 1))
	p.AddFault(awsproxy.ErrorFault("other-service", awsproxy.ByService("iam"), 400, "Other", "other", 0))
	if code := apiCode(t, get()); code != "First" {
		t.Errorf("code %q, want the first fault added", code)
	}
	removeFirst()
	removeFirst() // idempotent
	if code := apiCode(t, get()); code != "Second" {
		t.Errorf("code %q, want the second fault after removing the first", code)
	}
	if err := get(); err != nil {
		t.Errorf("second fault still injecting after Times=1: %v", err)
	}
	checkCalls(t, p, []call{
		{"sts", "GetCallerIdentity", adminKey, 400, "first"},
		{"sts", "GetCallerIdentity", adminKey, 400, "second"},
		{"sts", "GetCallerIdentity", adminKey, 200, ""},
	})
}

func TestMatchSeesFormBodyButNotS3Body(t *testing.T) {
	u, p := setup(t)
	ctx := context.Background()
	var mu sync.Mutex
	bodies := map[string][]byte{}
	p.AddFault(awsproxy.Fault{
		Name: "spy",
		Match: func(c awsproxy.Call, body []byte) bool {
			mu.Lock()
			bodies[c.Operation] = body
			mu.Unlock()
			return false
		},
	})
	if _, err := iamClient(p, adminKey).TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v v")}}}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 3<<20)
	if _, err := s3Client(p, adminKey).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if b := string(bodies["TagRole"]); !strings.Contains(b, "Action=TagRole") || !strings.Contains(b, "RoleName=r") {
		t.Errorf("TagRole body seen by Match: %q", b)
	}
	if b, ok := bodies["PutObject"]; !ok || b != nil {
		t.Errorf("PutObject body seen by Match: %d bytes (consulted %v), want nil", len(b), ok)
	}
	u.mu.Lock()
	stored := u.objects["/b/k"]
	u.mu.Unlock()
	if !bytes.Equal(stored, data) {
		t.Errorf("upstream stored %d bytes, want %d", len(stored), len(data))
	}
}

func TestSetDateOffset(t *testing.T) {
	_, p := setup(t)
	dateOf := func(path string) time.Time {
		t.Helper()
		resp, err := http.Get(p.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		return d
	}
	near := func(what string, got, want time.Time) {
		t.Helper()
		if diff := got.Sub(want); diff < -3*time.Second || diff > 3*time.Second {
			t.Errorf("%s: Date %v, want about %v", what, got, want)
		}
	}
	near("no offset", dateOf("/"), time.Now())
	p.SetDateOffset(-time.Hour)
	near("forwarded", dateOf("/"), time.Now().Add(-time.Hour))
	p.AddFault(awsproxy.ErrorFault("x", awsproxy.ByOperation("GetObject"), 404, "NoSuchKey", "no", 0))
	near("injected", dateOf("/b/k"), time.Now().Add(-time.Hour))
	p.SetDateOffset(0)
	near("reset", dateOf("/"), time.Now())
	checkCalls(t, p, []call{
		{"s3", "ListBuckets", "", 200, ""},
		{"s3", "ListBuckets", "", 200, ""},
		{"s3", "GetObject", "", 404, "x"},
		{"s3", "ListBuckets", "", 200, ""},
	})
}

func TestConcurrentCallsWithFaults(t *testing.T) {
	_, p := setup(t)
	p.AddFault(awsproxy.Throttle(0.3, 9))
	const workers, each = 16, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for w := range workers {
		wg.Go(func() {
			akid := adminKey
			if w%2 == 1 {
				akid = appKey
			}
			st := stsClient(p, akid)
			s3c := s3Client(p, akid)
			for i := range each {
				var err error
				if i%2 == 0 {
					_, err = st.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
				} else {
					_, err = s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
				}
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				_ = p.Calls() // concurrent readers
			}
		})
	}
	wg.Wait()
	calls := p.Calls()
	if len(calls) != workers*each {
		t.Fatalf("%d calls recorded, want %d", len(calls), workers*each)
	}
	injected := 0
	for _, c := range calls {
		if c.Injected != "" {
			injected++
		}
		if c.Status == 0 {
			t.Errorf("call without status: %+v", c)
		}
	}
	if injected != failed {
		t.Errorf("%d calls injected but %d client errors", injected, failed)
	}
	c := p.Counts()
	if c["sts:GetCallerIdentity"] != workers*each/2 || c["s3:ListBuckets"] != workers*each/2 {
		t.Errorf("Counts = %v", c)
	}
}

func TestUpstreamDownIs502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := awsproxy.Start("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	resp, err := http.Get(p.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if cs := p.Calls(); len(cs) != 1 || cs[0].Status != http.StatusBadGateway {
		t.Errorf("calls %+v", cs)
	}
}

func TestStartAndClose(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8333", "ftp://x", "http://127.0.0.1:8333/prefix", "http://127.0.0.1:8333?x=1"} {
		if p, err := awsproxy.Start(bad); err == nil {
			p.Close()
			t.Errorf("Start(%q) succeeded", bad)
		}
	}
	p, err := awsproxy.Start("http://127.0.0.1:8333/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q not on 127.0.0.1", p.URL())
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(p.URL()); err == nil {
		t.Errorf("proxy still serving after Close")
	}
}

func TestS3ThrottleOnPutIsSlowDown(t *testing.T) {
	u, p := setup(t)
	f := awsproxy.Throttle(1, 0)
	f.Match = awsproxy.And(awsproxy.ByOperation("PutObject"), f.Match)
	p.AddFault(f)
	s3c := s3Client(p, adminKey)
	_, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader(strings.Repeat("y", 1<<20))})
	if code := apiCode(t, err); code != "SlowDown" {
		t.Errorf("code %q, want SlowDown", code)
	}
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Errorf("ListBuckets throttled by a PutObject-only fault: %v", err)
	}
	if n := u.requestCount(); n != 1 {
		t.Errorf("upstream saw %d requests, want only ListBuckets", n)
	}
}
