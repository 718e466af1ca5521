package awsproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sigv4(akid, svc string) string {
	return "AWS4-HMAC-SHA256 Credential=" + akid + "/20260101/us-east-1/" + svc + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
}

type classifyCase struct {
	name, method, target, body string
	header                     map[string]string
	svc, op, akid              string
}

func TestClassify(t *testing.T) {
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	tests := []classifyCase{
		{"iam form", "POST", "/", "Action=CreateRole&Version=2010-05-08&RoleName=r",
			map[string]string{"Authorization": sigv4("AKIA1", "iam"), "Content-Type": form}, "iam", "CreateRole", "AKIA1"},
		{"sts form", "POST", "/", "Action=AssumeRole&Version=2011-06-15",
			map[string]string{"Authorization": sigv4("AKIA2", "sts"), "Content-Type": form}, "sts", "AssumeRole", "AKIA2"},
		{"unsigned sts by Version", "POST", "/", "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=x",
			map[string]string{"Content-Type": form}, "sts", "AssumeRoleWithWebIdentity", ""},
		{"iam GET query", "GET", "/?Action=ListUsers&Version=2010-05-08", "",
			map[string]string{"Authorization": sigv4("AKIA1", "iam")}, "iam", "ListUsers", "AKIA1"},
		{"presigned sts", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKIA3%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=00", "",
			nil, "sts", "GetCallerIdentity", "AKIA3"},
		{"presigned s3 get", "GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA4%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", "",
			nil, "s3", "GetObject", "AKIA4"},
		{"sigv4a", "GET", "/", "",
			map[string]string{"Authorization": "AWS4-ECDSA-P256-SHA256 Credential=AKIA5/20260101/s3/aws4_request, SignedHeaders=host, Signature=00"}, "s3", "ListBuckets", "AKIA5"},
		{"sigv2", "GET", "/", "", map[string]string{"Authorization": "AWS AKIA6:c2ln"}, "s3", "ListBuckets", "AKIA6"},
		{"json protocol", "POST", "/", "{}",
			map[string]string{"Authorization": sigv4("AKIA7", "kms"), "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"}, "kms", "ListKeys", "AKIA7"},
		{"s3 form content type is not read", "PUT", "/b/k", "Action=Nope",
			map[string]string{"Authorization": sigv4("AKIA8", "s3"), "Content-Type": form}, "s3", "PutObject", "AKIA8"},
	}
	s3 := func(method, target string, hdr ...string) (string, string, string, map[string]string) {
		h := map[string]string{"Authorization": sigv4("AKIAS3", "s3")}
		for i := 0; i+1 < len(hdr); i += 2 {
			h[hdr[i]] = hdr[i+1]
		}
		return method, target, "", h
	}
	for _, s := range []struct{ method, target, op string }{
		{"GET", "/", "ListBuckets"},
		{"HEAD", "/b", "HeadBucket"},
		{"PUT", "/b", "CreateBucket"},
		{"PUT", "/b/", "CreateBucket"},
		{"DELETE", "/b", "DeleteBucket"},
		{"GET", "/b?location", "GetBucketLocation"},
		{"GET", "/b?list-type=2&prefix=x", "ListObjectsV2"},
		{"GET", "/b", "ListObjects"},
		{"GET", "/b?uploads", "ListMultipartUploads"},
		{"POST", "/b?delete", "DeleteObjects"},
		{"PUT", "/b?policy", "PutBucketPolicy"},
		{"GET", "/b?policy", "GetBucketPolicy"},
		{"DELETE", "/b?policy", "DeleteBucketPolicy"},
		{"PUT", "/b?versioning", "PutBucketVersioning"},
		{"GET", "/b?publicAccessBlock", "GetPublicAccessBlock"},
		{"PUT", "/b/k", "PutObject"},
		{"PUT", "/b/dir/k%20x", "PutObject"},
		{"GET", "/b/k", "GetObject"},
		{"HEAD", "/b/k", "HeadObject"},
		{"DELETE", "/b/k", "DeleteObject"},
		{"POST", "/b/k?uploads", "CreateMultipartUpload"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "UploadPart"},
		{"POST", "/b/k?uploadId=u", "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", "AbortMultipartUpload"},
		{"GET", "/b/k?uploadId=u", "ListParts"},
		{"GET", "/b/k?tagging", "GetObjectTagging"},
		{"PATCH", "/b/k", "PATCH"},
		{"PATCH", "/b/k?x-id=SomeNewOp", "SomeNewOp"},
		{"GET", "/b/k?x-id=GetObject", "GetObject"},
	} {
		m, tg, b, h := s3(s.method, s.target)
		tests = append(tests, classifyCase{"s3 " + s.method + " " + s.target, m, tg, b, h, "s3", s.op, "AKIAS3"})
	}
	m, tg, b, h := s3("PUT", "/b/k", "X-Amz-Copy-Source", "/a/b")
	tests = append(tests, classifyCase{"s3 copy", m, tg, b, h, "s3", "CopyObject", "AKIAS3"})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://127.0.0.1:1"+tt.target, strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			now := time.Unix(1, 0)
			c, body, err := classify(r, now)
			if err != nil {
				t.Fatal(err)
			}
			if c.Service != tt.svc || c.Operation != tt.op || c.AccessKeyID != tt.akid || c.Method != tt.method || !c.Time.Equal(now) {
				t.Errorf("got %+v, want service %q operation %q key %q", c, tt.svc, tt.op, tt.akid)
			}
			// Query-protocol forms are read and restored; everything else is
			// left unread.
			wantBody := tt.svc == "iam" || tt.svc == "sts"
			if wantBody && tt.method == "POST" && string(body) != tt.body {
				t.Errorf("body for Match = %q, want %q", body, tt.body)
			}
			if (!wantBody || tt.method != "POST") && body != nil {
				t.Errorf("body read for a non-form request: %q", body)
			}
			rest, _ := io.ReadAll(r.Body)
			if string(rest) != tt.body {
				t.Errorf("body left for forwarding = %q, want %q", rest, tt.body)
			}
			if r.ContentLength != int64(len(tt.body)) {
				t.Errorf("ContentLength = %d, want %d", r.ContentLength, len(tt.body))
			}
		})
	}
}

func TestIsIAMWrite(t *testing.T) {
	reads := []string{"GetRole", "GetUser", "GetAccountAuthorizationDetails", "ListRoles", "ListAttachedRolePolicies",
		"ListRoleTags", "SimulatePrincipalPolicy", "SimulateCustomPolicy", "GenerateCredentialReport", "GenerateOrganizationsAccessReport", ""}
	writes := []string{"CreateRole", "DeleteRole", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
		"UpdateAssumeRolePolicy", "UpdateRole", "TagRole", "UntagRole", "CreateUser", "CreateAccessKey", "UpdateAccessKey",
		"DeleteAccessKey", "AddUserToGroup", "RemoveUserFromGroup", "CreatePolicyVersion", "SetDefaultPolicyVersion",
		"PutRolePermissionsBoundary", "ChangePassword", "ResyncMFADevice", "UploadServerCertificate",
		"GenerateServiceLastAccessedDetails", "AcceptDelegationRequest"}
	for _, op := range reads {
		if IsIAMWrite(op) {
			t.Errorf("IsIAMWrite(%q) = true", op)
		}
	}
	for _, op := range writes {
		if !IsIAMWrite(op) {
			t.Errorf("IsIAMWrite(%q) = false", op)
		}
	}
}

func TestErrorBodyShapes(t *testing.T) {
	id := `[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}`
	tests := []struct {
		svc         string
		status      int
		contentType string
		pattern     string
	}{
		{"iam", 404, "text/xml", `^<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>a &lt;b&gt; &#34;c&#34;</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>$`},
		{"sts", 500, "text/xml", `^<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>NoSuchEntity</Code>`},
		{"sns", 400, "text/xml", `^<ErrorResponse><Error><Type>Sender</Type>`},
		{"s3", 404, "application/xml", `^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchEntity</Code><Message>a &lt;b&gt; &#34;c&#34;</Message><RequestId>` + id + `</RequestId></Error>$`},
	}
	for _, tt := range tests {
		ct, body := ErrorBody(Call{Service: tt.svc}, tt.status, "NoSuchEntity", `a <b> "c"`)
		if ct != tt.contentType || !regexp.MustCompile(tt.pattern).Match(body) {
			t.Errorf("%s: %s %s\nwant %s %s", tt.svc, ct, body, tt.contentType, tt.pattern)
		}
	}
}

func TestHEADErrorHasNoBody(t *testing.T) {
	p := &Proxy{}
	p.AddFault(ErrorFault("x", nil, http.StatusNotFound, "NoSuchKey", "gone", 0))
	for _, method := range []string{"HEAD", "GET"} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(method, "http://127.0.0.1:1/b/k", nil)
		r.Header.Set("Authorization", sigv4("AKIA", "s3"))
		p.ServeHTTP(rec, r)
		if rec.Code != 404 || rec.Header().Get("X-Amz-Request-Id") == "" {
			t.Errorf("%s: status %d headers %v", method, rec.Code, rec.Header())
		}
		if gotBody := rec.Body.Len() > 0; gotBody != (method == "GET") {
			t.Errorf("%s: body %q", method, rec.Body.String())
		}
	}
}
