package awsproxy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

// Test-only identities known to the fake upstream.
const (
	adminKey = "AKIAADMINTEST0000001"
	appKey   = "AKIAAPPTEST000000002"
	newKeyA  = "AKIANEWTEST00000000A"
	newKeyB  = "AKIANEWTEST00000000B"
	region   = "us-east-1"
)

var secrets = map[string]string{
	adminKey: "admin-secret-for-tests-only",
	appKey:   "app-secret-for-tests-only",
	newKeyA:  "new-secret-a-for-tests-only",
	newKeyB:  "new-secret-b-for-tests-only",
}

// upstream is a fake AWS-API endpoint serving IAM, STS and S3 on one port,
// like the emulator. It insists on the Host the client signed for and
// verifies every SigV4 signature, so a proxy that rewrites Host, headers,
// path escaping or body is caught.
type upstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	wantHost string
	problems []string
	objects  map[string][]byte
	parts    map[string]map[int][]byte
	requests int
}

func newUpstream() *upstream {
	u := &upstream{objects: map[string][]byte{}, parts: map[string]map[int][]byte{}}
	u.srv = httptest.NewServer(u)
	return u
}

// setup starts a fake upstream and a proxy in front of it and stops both,
// reporting upstream problems, when the test ends.
func setup(t *testing.T) (*upstream, *awsproxy.Proxy) {
	t.Helper()
	u := newUpstream()
	p, err := awsproxy.Start(u.srv.URL)
	if err != nil {
		u.srv.Close()
		t.Fatal(err)
	}
	u.expectHost(strings.TrimPrefix(p.URL(), "http://"))
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		u.srv.Close()
		for _, pr := range u.problemList() {
			t.Errorf("upstream: %s", pr)
		}
	})
	return u, p
}

func (u *upstream) expectHost(h string) {
	u.mu.Lock()
	u.wantHost = h
	u.mu.Unlock()
}

func (u *upstream) problem(format string, args ...any) {
	u.mu.Lock()
	u.problems = append(u.problems, fmt.Sprintf(format, args...))
	u.mu.Unlock()
}

func (u *upstream) problemList() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.problems...)
}

func (u *upstream) requestCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		u.problem("%s %s: reading body: %v", r.Method, r.URL, err)
		return
	}
	u.mu.Lock()
	u.requests++
	want := u.wantHost
	u.mu.Unlock()

	if r.Host != want {
		u.problem("%s %s: Host %q, want %q", r.Method, r.URL, r.Host, want)
		http.Error(w, "wrong host", http.StatusBadRequest)
		return
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		u.problem("%s %s: aws-chunked body not supported by the fake", r.Method, r.URL)
	}
	if r.Header.Get("Authorization") != "" {
		if err := verifySigV4(r, body); err != nil {
			u.problem("%s %s: %v", r.Method, r.URL, err)
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
	}

	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
		form, _ := url.ParseQuery(string(body))
		u.serveQuery(w, form)
		return
	}
	u.serveS3(w, r, body)
}

func (u *upstream) serveQuery(w http.ResponseWriter, form url.Values) {
	action := form.Get("Action")
	ns := "https://iam.amazonaws.com/doc/2010-05-08/"
	result := ""
	if form.Get("Version") == "2011-06-15" {
		ns = "https://sts.amazonaws.com/doc/2011-06-15/"
		if action == "GetCallerIdentity" {
			result = "<Arn>arn:aws:iam::000000000000:user/test</Arn><UserId>AIDATEST</UserId><Account>000000000000</Account>"
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, action, result, action, action)
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

func (u *upstream) serveS3(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	xmlOK := func(s string) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+s)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case bucket == "":
		xmlOK(`<ListAllMyBucketsResult xmlns="` + s3NS + `"><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>`)
	case key == "" && has("location"):
		xmlOK(`<LocationConstraint xmlns="` + s3NS + `"></LocationConstraint>`)
	case key == "" && r.Method == http.MethodGet:
		xmlOK(`<ListBucketResult xmlns="` + s3NS + `"><Name>` + bucket + `</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
	case key == "" && r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case key == "":
		// PUT (CreateBucket) and HEAD (HeadBucket).
	case r.Method == http.MethodPost && has("uploads"):
		id := fmt.Sprintf("upload-%d", len(u.parts)+1)
		u.parts[id] = map[int][]byte{}
		xmlOK(`<InitiateMultipartUploadResult xmlns="` + s3NS + `"><Bucket>` + bucket + `</Bucket><Key>` + key + `</Key><UploadId>` + id + `</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && has("uploadId"):
		n, _ := strconv.Atoi(q.Get("partNumber"))
		u.parts[q.Get("uploadId")][n] = body
		w.Header().Set("ETag", `"part`+q.Get("partNumber")+`"`)
	case r.Method == http.MethodPost && has("uploadId"):
		parts := u.parts[q.Get("uploadId")]
		nums := make([]int, 0, len(parts))
		for n := range parts {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var all []byte
		for _, n := range nums {
			all = append(all, parts[n]...)
		}
		u.objects[r.URL.Path] = all
		delete(u.parts, q.Get("uploadId"))
		xmlOK(`<CompleteMultipartUploadResult xmlns="` + s3NS + `"><Bucket>` + bucket + `</Bucket><Key>` + key + `</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`)
	case r.Method == http.MethodDelete && has("uploadId"):
		delete(u.parts, q.Get("uploadId"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut:
		u.objects[r.URL.Path] = body
		w.Header().Set("ETag", `"etag"`)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		obj, ok := u.objects[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(obj)))
		w.Header().Set("ETag", `"etag"`)
		if r.Method == http.MethodGet {
			_, _ = w.Write(obj)
		}
	case r.Method == http.MethodDelete:
		delete(u.objects, r.URL.Path)
		w.WriteHeader(http.StatusNoContent)
	default:
		u.problem("unexpected S3 request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotImplemented)
	}
}

// verifySigV4 recomputes the signature of a received request from the
// headers it lists as signed, exactly as an emulator verifying SigV4 does.
func verifySigV4(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("unsupported Authorization %q", auth)
	}
	var cred, signedHeaders, signature string
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 {
		return fmt.Errorf("bad credential scope %q", cred)
	}
	akid, svc, reg := scope[0], scope[3], scope[2]
	secret, ok := secrets[akid]
	if !ok {
		return fmt.Errorf("unknown access key %q", akid)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %v", err)
	}

	clone := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			clone.ContentLength = r.ContentLength
		default:
			clone.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		clone, payloadHash, svc, reg, signingTime, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = svc == "s3" })
	if err != nil {
		return err
	}
	_, got, _ := strings.Cut(clone.Header.Get("Authorization"), "Signature=")
	if got != signature {
		return fmt.Errorf("signature mismatch (signed headers %s)", signedHeaders)
	}
	return nil
}

// awsConfig returns an SDK config for the proxy signed with akid; retries
// are off unless retry is true, so injected faults reach the caller.
func awsConfig(p *awsproxy.Proxy, akid string, retry bool) aws.Config {
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secrets[akid], ""),
		BaseEndpoint: aws.String(p.URL()),
	}
	if !retry {
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	}
	return cfg
}

func iamClient(p *awsproxy.Proxy, akid string) *iam.Client {
	return iam.NewFromConfig(awsConfig(p, akid, false))
}

func stsClient(p *awsproxy.Proxy, akid string) *sts.Client {
	return sts.NewFromConfig(awsConfig(p, akid, false))
}

func s3Client(p *awsproxy.Proxy, akid string) *s3.Client {
	return s3.NewFromConfig(awsConfig(p, akid, false), func(o *s3.Options) { o.UsePathStyle = true })
}
