package appclient

import (
	"fmt"
	"strings"

	"github.com/iamwizard/iamwizard/internal/awsx"
)

// ExplainUpload turns an upload error into one an administrator can act on. An
// AccessDenied names the role, bucket and key and the three places that can deny it,
// with how to check each; other errors keep the usual explanations.
func (c *Client) ExplainUpload(key string, err error) error {
	if err == nil {
		return nil
	}
	if !awsx.IsAccessDenied(err) {
		if awsx.Code(err) == "NoSuchBucket" {
			return &awsx.FixError{Summary: fmt.Sprintf("the bucket %s does not exist (from %s)", c.Identity.Bucket, c.Identity.Source),
				Fix: "check the bucket name in the application's config or iamwizard's settings", Err: err}
		}
		return awsx.Explain("s3:PutObject", err)
	}
	return &awsx.FixError{Summary: c.DeniedSummary(key), Fix: c.DeniedFix(key), Err: err}
}

// DeniedSummary is the one line saying who was denied what.
func (c *Client) DeniedSummary(key string) string {
	role := c.RoleARN
	if role == "" {
		role = "the role of profile [" + c.Identity.RoleProfile + "]"
	}
	return fmt.Sprintf("AWS denied %s writing s3://%s/%s (AccessDenied)", role, c.Identity.Bucket, key)
}

// DeniedFix lists the likely causes of a denied upload, the most likely first, each
// with how to check it.
func (c *Client) DeniedFix(key string) string {
	b := c.Identity.Bucket
	var causes []string
	switch p := c.Identity.KeyPrefix; {
	case p != "" && !strings.HasPrefix(key, p):
		causes = append(causes, fmt.Sprintf("the key is outside %s, the only folder the role may write to: choose a key under it", p))
	case p == "" && c.Identity.RoleARN != "":
		// The classic config names no prefix, and most roles may write under one only.
		causes = append(causes, "the role may write only under a folder (key prefix) that "+c.Identity.Source+" does not name: pass it with --key-prefix")
	}
	causes = append(causes,
		"the role's policy does not allow s3:PutObject on this key: run `iamwizard verify` as the administrator to compare it with the setup, and `iamwizard apply` to repair it",
		fmt.Sprintf("the bucket policy denies the role or this request (for example a Deny without encryption headers or TLS): read it with `aws s3api get-bucket-policy --bucket %s`", b),
		fmt.Sprintf("the bucket encrypts with a KMS key (SSE-KMS) the role may not use: `aws s3api get-bucket-encryption --bucket %s` names the key; its key policy must allow the role kms:GenerateDataKey (and kms:Decrypt for multipart uploads)", b),
	)
	var sb strings.Builder
	sb.WriteString("check, in this order:")
	for i, cause := range causes {
		fmt.Fprintf(&sb, "\n    %d. %s", i+1, cause)
	}
	return sb.String()
}

func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
