package awsproxy

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// classify builds the Call for r. For a query-protocol form body (IAM, STS)
// it reads the body, restores it on r for forwarding, and returns it; for
// anything else (S3) it leaves the body unread and returns nil.
func classify(r *http.Request, now time.Time) (Call, []byte, error) {
	c := Call{Method: r.Method, Path: r.URL.Path, Time: now}
	c.AccessKeyID, c.Service = credentialScope(r)
	query := r.URL.Query()

	var body []byte
	var form url.Values
	if c.Service != "s3" && r.Method == http.MethodPost && isForm(r) && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return c, nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		r.ContentLength = int64(len(b))
		r.TransferEncoding = nil
		form, _ = url.ParseQuery(string(b))
	}

	action := form.Get("Action")
	if action == "" {
		action = query.Get("Action")
	}
	switch {
	case action != "":
		c.Operation = action
		if c.Service == "" {
			version := form.Get("Version")
			if version == "" {
				version = query.Get("Version")
			}
			c.Service = serviceForVersion(version)
		}
	case c.Service == "" || c.Service == "s3":
		// Unsigned non-query requests on an S3-serving port are anonymous S3.
		c.Service = "s3"
		c.Operation = s3Operation(r.Method, r.URL.Path, query, r.Header)
		if xid := query.Get("x-id"); c.Operation == r.Method && xid != "" {
			// The SDK names some operations in the x-id query parameter.
			c.Operation = xid
		}
	default:
		// JSON-protocol services name the operation in X-Amz-Target.
		if t := r.Header.Get("X-Amz-Target"); t != "" {
			c.Operation = t[strings.LastIndexByte(t, '.')+1:]
		} else {
			c.Operation = r.Method
		}
	}
	return c, body, nil
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

func serviceForVersion(v string) string {
	switch v {
	case "2010-05-08":
		return "iam"
	case "2011-06-15":
		return "sts"
	}
	return ""
}

// credentialScope extracts the access key and service from the SigV4
// Authorization header (AWS4-HMAC-SHA256 or SigV4a), from a presigned URL's
// X-Amz-Credential, or the access key alone from a SigV2 header.
func credentialScope(r *http.Request) (akid, service string) {
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		cred := auth[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
		return parseScope(cred)
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		return parseScope(cred)
	}
	if rest, ok := strings.CutPrefix(auth, "AWS "); ok {
		id, _, _ := strings.Cut(rest, ":")
		return strings.TrimSpace(id), ""
	}
	return "", ""
}

// parseScope splits AKID/DATE/REGION/SERVICE/aws4_request (SigV4) or
// AKID/DATE/SERVICE/aws4_request (SigV4a).
func parseScope(cred string) (akid, service string) {
	parts := strings.Split(cred, "/")
	if len(parts) < 4 || parts[len(parts)-1] != "aws4_request" {
		return parts[0], ""
	}
	return parts[0], parts[len(parts)-2]
}

// s3BucketSubresources names bucket-level operations by query subresource
// and method.
var s3BucketSubresources = map[string]map[string]string{
	"location":          {"GET": "GetBucketLocation"},
	"uploads":           {"GET": "ListMultipartUploads"},
	"versions":          {"GET": "ListObjectVersions"},
	"delete":            {"POST": "DeleteObjects"},
	"policy":            {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"},
	"policyStatus":      {"GET": "GetBucketPolicyStatus"},
	"versioning":        {"GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"},
	"tagging":           {"GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"},
	"acl":               {"GET": "GetBucketAcl", "PUT": "PutBucketAcl"},
	"cors":              {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"},
	"lifecycle":         {"GET": "GetBucketLifecycleConfiguration", "PUT": "PutBucketLifecycleConfiguration", "DELETE": "DeleteBucketLifecycle"},
	"encryption":        {"GET": "GetBucketEncryption", "PUT": "PutBucketEncryption", "DELETE": "DeleteBucketEncryption"},
	"publicAccessBlock": {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock", "DELETE": "DeletePublicAccessBlock"},
	"ownershipControls": {"GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls", "DELETE": "DeleteBucketOwnershipControls"},
	"object-lock":       {"GET": "GetObjectLockConfiguration", "PUT": "PutObjectLockConfiguration"},
}

// s3ObjectSubresources names object-level operations by query subresource
// and method (multipart uploads are handled separately).
var s3ObjectSubresources = map[string]map[string]string{
	"tagging":    {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"},
	"acl":        {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"},
	"retention":  {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"},
	"legal-hold": {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"},
	"attributes": {"GET": "GetObjectAttributes"},
}

// s3Operation names an S3 request from its method, path-style path and
// query alone, without reading the body. Unknown requests are named by
// their method.
func s3Operation(method, path string, q url.Values, h http.Header) string {
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucket, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")

	if bucket == "" {
		if method == http.MethodGet {
			return "ListBuckets"
		}
		return method
	}

	if key == "" {
		for sub, ops := range s3BucketSubresources {
			if has(sub) {
				if op, ok := ops[method]; ok {
					return op
				}
			}
		}
		switch method {
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
		return method
	}

	copySource := h.Get("X-Amz-Copy-Source") != ""
	switch {
	case method == http.MethodPost && has("uploads"):
		return "CreateMultipartUpload"
	case has("uploadId"):
		switch method {
		case http.MethodPut:
			if copySource {
				return "UploadPartCopy"
			}
			return "UploadPart"
		case http.MethodPost:
			return "CompleteMultipartUpload"
		case http.MethodDelete:
			return "AbortMultipartUpload"
		case http.MethodGet:
			return "ListParts"
		}
		return method
	}
	for sub, ops := range s3ObjectSubresources {
		if has(sub) {
			if op, ok := ops[method]; ok {
				return op
			}
		}
	}
	switch method {
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		if copySource {
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodDelete:
		return "DeleteObject"
	}
	return method
}

// iamReadPrefixes are the prefixes of IAM operations that do not change
// state; GenerateCredentialReport and GenerateOrganizationsAccessReport are
// also reads (they only start report generation).
var iamReadPrefixes = []string{"Get", "List", "Simulate"}

// IsIAMWrite reports whether the IAM operation op changes state: everything
// except Get*, List*, Simulate* and Generate*Report.
func IsIAMWrite(op string) bool {
	for _, p := range iamReadPrefixes {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	if strings.HasPrefix(op, "Generate") && strings.HasSuffix(op, "Report") {
		return false
	}
	return op != ""
}
