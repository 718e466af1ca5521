// Package setup describes the desired setup — names, bucket, prefix, account and
// partition — and validates every choice against IAM's and S3's rules before
// anything is written.
package setup

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults are the names of the classic setup this tool replaces.
const (
	DefaultUserName           = "application-user"
	DefaultRoleName           = "application-role"
	DefaultUserPolicyName     = "assume-role-policy"
	DefaultRolePolicyName     = "allow-put-s3-object"
	DefaultAppProfile         = "application-user"
	DefaultRoleProfile        = "application-role"
	DefaultMaxSessionDuration = 3600
	DefaultPath               = "/"
)

// Setup is the desired state: what should exist once apply has run.
type Setup struct {
	Partition          string `json:"partition"` // "aws", "aws-cn", "aws-us-gov", ... learned from the admin's identity
	Account            string `json:"account"`   // 12-digit account id learned from GetCallerIdentity
	Bucket             string `json:"bucket"`
	KeyPrefix          string `json:"key_prefix"` // "" for the whole bucket, else a folder ending in "/"
	UserName           string `json:"user"`
	RoleName           string `json:"role"`
	UserPolicyName     string `json:"user_policy"`
	RolePolicyName     string `json:"role_policy"`
	MaxSessionDuration int32  `json:"max_session_duration"`
}

// Validate checks every name and value; the first problem found is returned with the rule it breaks.
func (s Setup) Validate() error {
	checks := []struct {
		what string
		err  error
	}{
		{"--user", ValidateUserName(s.UserName)},
		{"--role", ValidateRoleName(s.RoleName)},
		{"--user-policy", ValidatePolicyName(s.UserPolicyName)},
		{"--role-policy", ValidatePolicyName(s.RolePolicyName)},
		{"--bucket", ValidateBucket(s.Bucket)},
		{"--key-prefix", ValidateKeyPrefix(s.KeyPrefix)},
		{"--max-session-duration", ValidateMaxSessionDuration(int(s.MaxSessionDuration))},
	}
	for _, c := range checks {
		if c.err != nil {
			return fmt.Errorf("%s: %w", c.what, c.err)
		}
	}
	// Managed policies share one namespace in which IAM ignores case.
	if strings.EqualFold(s.UserPolicyName, s.RolePolicyName) {
		return fmt.Errorf("--user-policy and --role-policy must be different policies (IAM ignores case): both are %q", s.UserPolicyName)
	}
	return nil
}

// ARN returns arn:PARTITION:iam::ACCOUNT:KIND/NAME, the ARN IAM gives an entity with the default path.
func (s Setup) ARN(kind, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s%s%s", s.Partition, s.Account, kind, DefaultPath, name)
}

// UserARN is the application user's ARN.
func (s Setup) UserARN() string { return s.ARN("user", s.UserName) }

// RoleARN is the application role's ARN.
func (s Setup) RoleARN() string { return s.ARN("role", s.RoleName) }

// UserPolicyARN is the ARN of the managed policy that lets the user assume the role.
func (s Setup) UserPolicyARN() string { return s.ARN("policy", s.UserPolicyName) }

// RolePolicyARN is the ARN of the managed policy that lets the role put objects.
func (s Setup) RolePolicyARN() string { return s.ARN("policy", s.RolePolicyName) }

// ObjectsARN is the S3 resource the role may write to: every key under the prefix.
func (s Setup) ObjectsARN() string {
	return fmt.Sprintf("arn:%s:s3:::%s/%s*", s.Partition, s.Bucket, s.KeyPrefix)
}

var iamNameChars = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]+$`)

func validateIAMName(name string, limit int) error {
	switch {
	case name == "":
		return errors.New("a name is required")
	case len(name) > limit:
		return fmt.Errorf("%d characters is too long: IAM allows at most %d", len(name), limit)
	case !iamNameChars.MatchString(name):
		return fmt.Errorf("%q has a character IAM does not allow: use letters, digits and + = , . @ _ -", name)
	}
	return nil
}

// ValidateUserName applies IAM's rules for user names: up to 64 of letters, digits and +=,.@_-.
func ValidateUserName(name string) error { return validateIAMName(name, 64) }

// ValidateRoleName applies IAM's rules for role names: up to 64 of letters, digits and +=,.@_-.
func ValidateRoleName(name string) error { return validateIAMName(name, 64) }

// ValidatePolicyName applies IAM's rules for managed policy names: up to 128 of letters, digits and +=,.@_-.
func ValidatePolicyName(name string) error { return validateIAMName(name, 128) }

// s3AvoidChars are the characters S3's documentation says to avoid in object keys;
// quotes, backslashes and braces would also need escaping in a policy.
const s3AvoidChars = "\\{}^%`[]\"<>~#|"

var bucketChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// ValidateBucket applies S3's naming rules for general purpose buckets.
func ValidateBucket(name string) error {
	switch {
	case name == "":
		return errors.New("a bucket name is required")
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("%q: bucket names are 3 to 63 characters long", name)
	case strings.ToLower(name) != name:
		return fmt.Errorf("%q: bucket names use lowercase letters only", name)
	case !bucketChars.MatchString(name):
		return fmt.Errorf("%q: bucket names use lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("%q: bucket names cannot contain two adjacent dots", name)
	case net.ParseIP(name) != nil:
		return fmt.Errorf("%q: bucket names cannot look like an IP address", name)
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") || strings.HasPrefix(name, "amzn-s3-demo-"):
		return fmt.Errorf("%q: that prefix is reserved by S3", name)
	case strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") || strings.HasSuffix(name, ".mrap") || strings.HasSuffix(name, "--x-s3") || strings.HasSuffix(name, "--table-s3"):
		return fmt.Errorf("%q: that suffix is reserved by S3", name)
	}
	return nil
}

// ValidateKeyPrefix refuses a prefix that would widen the grant or break the policy:
// wildcards, policy variables, control characters, or a prefix that is not a folder.
func ValidateKeyPrefix(prefix string) error {
	if prefix == "" {
		return nil // the whole bucket: allowed, and the plan says so
	}
	switch {
	case !utf8.ValidString(prefix):
		return errors.New("the key prefix is not valid UTF-8")
	case len(prefix) > 512:
		return fmt.Errorf("the key prefix is %d bytes: keep it under 512 so object keys still fit S3's 1024", len(prefix))
	case strings.ContainsAny(prefix, "*?"):
		return fmt.Errorf("%q: * and ? are wildcards in a policy and would widen the grant", prefix)
	case strings.Contains(prefix, "${"):
		return fmt.Errorf("%q: ${...} is a policy variable and would change the grant", prefix)
	case strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("%q: S3 keys do not start with /; write %q", prefix, strings.TrimLeft(prefix, "/"))
	case !strings.HasSuffix(prefix, "/"):
		return fmt.Errorf("%q: a prefix is a folder and ends with /; write %q, or the grant would also cover %q", prefix, prefix+"/", prefix+"-other/...")
	case strings.Contains(prefix, "//"):
		return fmt.Errorf("%q: empty folder names (//) are almost always a mistake", prefix)
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q: control characters are not allowed in the key prefix", prefix)
		}
		if unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%q: invisible formatting characters (such as right-to-left marks) are not allowed in the key prefix", prefix)
		}
		if strings.ContainsRune(s3AvoidChars, r) {
			return fmt.Errorf("%q: %q is one of the characters S3 advises against in keys (%s)", prefix, r, s3AvoidChars)
		}
	}
	return nil
}

// ValidateMaxSessionDuration enforces IAM's range for a role's maximum session: 1 to 12 hours.
func ValidateMaxSessionDuration(seconds int) error {
	if seconds < 3600 || seconds > 43200 {
		return fmt.Errorf("%d s: IAM allows 3600 to 43200 seconds (1 to 12 hours)", seconds)
	}
	return nil
}
