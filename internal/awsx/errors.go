package awsx

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// FixError is an error a person can act on: what went wrong, and what to do about it.
type FixError struct {
	Summary string // one line: what went wrong
	Fix     string // one line: what to do about it
	Err     error  // the underlying cause, if any
}

func (e *FixError) Error() string {
	if e.Fix == "" {
		return e.Summary
	}
	return e.Summary + "; fix: " + e.Fix
}

func (e *FixError) Unwrap() error { return e.Err }

// Fix returns a FixError with no underlying cause.
func Fix(summary, fix string) *FixError { return &FixError{Summary: summary, Fix: fix} }

// Code returns the AWS error code of err ("" when err is not an AWS API error).
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Message returns the AWS error message of err ("" when err is not an AWS API error).
func Message(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// IsNotFound reports a missing entity, bucket or key.
func IsNotFound(err error) bool {
	switch Code(err) {
	case "NoSuchEntity", "NoSuchBucket", "NotFound", "NoSuchKey", "404":
		return true
	}
	return false
}

// IsAlreadyExists reports a create that lost to an existing entity: a reason to re-read.
func IsAlreadyExists(err error) bool { return Code(err) == "EntityAlreadyExists" }

// IsAccessDenied reports an authorization failure of a caller AWS already knows.
func IsAccessDenied(err error) bool {
	switch Code(err) {
	case "AccessDenied", "AccessDeniedException", "Forbidden", "403", "UnauthorizedOperation":
		return true
	}
	return false
}

// IsUnknownKey reports a key AWS does not (yet) recognise: right after CreateAccessKey
// this is IAM's propagation delay, later it means the key was deleted.
func IsUnknownKey(err error) bool {
	switch Code(err) {
	case "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException", "AuthFailure":
		return true
	}
	return false
}

// IsInvalidPrincipal reports a trust policy naming a principal IAM cannot see (yet).
func IsInvalidPrincipal(err error) bool {
	return Code(err) == "MalformedPolicyDocument" && strings.Contains(strings.ToLower(Message(err)), "principal")
}

// IsLimitExceeded reports an IAM quota such as 5 policy versions or 2 access keys.
func IsLimitExceeded(err error) bool { return Code(err) == "LimitExceeded" }

// IsNotImplemented reports an operation an AWS-compatible endpoint does not offer.
func IsNotImplemented(err error) bool {
	switch Code(err) {
	case "InvalidAction", "NotImplemented", "UnsupportedOperation", "InvalidRequest", "UnknownOperationException":
		return true
	}
	return false
}

// IsUnreachable reports that the endpoint could not be reached at all.
func IsUnreachable(err error) bool {
	var netErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &netErr) || errors.As(err, &dnsErr)
}

// Explain turns an error from an AWS operation into one line with the fix.
// operation is the API action ("iam:CreateUser"); the error's own text is kept as cause.
func Explain(operation string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FixError
	if errors.As(err, &fe) {
		return err
	}
	code := Code(err)
	switch {
	case IsAccessDenied(err):
		return &FixError{Summary: fmt.Sprintf("the admin credentials lack %s", operation),
			Fix: "run with an administrator profile (--profile) that is allowed " + operation + ", or ask your AWS administrator to grant it", Err: err}
	case IsUnknownKey(err):
		return &FixError{Summary: fmt.Sprintf("%s: AWS does not recognise the access key in use (%s)", operation, code),
			Fix: "check that the profile's key is current (`aws sts get-caller-identity --profile NAME`), or pick another with --profile", Err: err}
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
		return &FixError{Summary: fmt.Sprintf("%s: the session credentials have expired", operation),
			Fix: "log in again (for SSO: `aws sso login --profile NAME`) and re-run", Err: err}
	case code == "SignatureDoesNotMatch" || code == "RequestTimeTooSkewed":
		return &FixError{Summary: fmt.Sprintf("%s: AWS rejected the request signature (%s)", operation, code),
			Fix: "check the secret key of the profile and that this machine's clock is correct (timedatectl / NTP)", Err: err}
	case IsNotImplemented(err):
		return &FixError{Summary: fmt.Sprintf("this endpoint does not implement %s", operation),
			Fix: "use AWS itself, or make this change by hand on this endpoint", Err: err}
	case MaybeSent(err) && !IsUnreachable(err):
		return &FixError{Summary: fmt.Sprintf("%s: the connection broke before AWS's answer arrived, so it may or may not have been carried out", operation),
			Fix: "re-run: iamwizard reads what exists and continues (an access key created without its secret being stored is found and deleted)", Err: err}
	case IsUnreachable(err):
		return &FixError{Summary: fmt.Sprintf("%s: cannot reach the AWS endpoint", operation),
			Fix: "check --endpoint-url / AWS_ENDPOINT_URL, the network and any proxy settings", Err: err}
	case code == "Throttling" || code == "ThrottlingException" || code == "SlowDown":
		return &FixError{Summary: fmt.Sprintf("%s: AWS kept throttling the requests", operation),
			Fix: "wait a minute and re-run; iamwizard continues where it stopped", Err: err}
	}
	if code != "" {
		return &FixError{Summary: fmt.Sprintf("%s failed: %s: %s", operation, code, Message(err)), Err: err}
	}
	return fmt.Errorf("%s: %w", operation, err)
}
