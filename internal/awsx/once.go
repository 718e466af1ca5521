package awsx

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// onceIAM is the IAM client with one change: the creates are never re-sent by the
// SDK after their request may have reached AWS. A connection dropped after sending may
// have created a key whose secret nobody received; sending again would create a
// second one and leave the first behind unnoticed. For a user, role or policy the
// resend would answer EntityAlreadyExists for the run's own entity, which on an
// endpoint that drops tags looks like someone else's. The caller gets the error
// instead (see MaybeSent), and what it recorded before the create (the key intent,
// the managed record) lets it or the next run recognise what was made.
type onceIAM struct{ *iam.Client }

func noResendOption(o *iam.Options) { o.Retryer = noResend{o.Retryer} }

// CreateUser calls IAM's CreateUser without resending it after a lost answer.
func (c onceIAM) CreateUser(ctx context.Context, in *iam.CreateUserInput, opts ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	return c.Client.CreateUser(ctx, in, append(opts, noResendOption)...)
}

// CreateRole calls IAM's CreateRole without resending it after a lost answer.
func (c onceIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, opts ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	return c.Client.CreateRole(ctx, in, append(opts, noResendOption)...)
}

// CreatePolicy calls IAM's CreatePolicy without resending it after a lost answer.
func (c onceIAM) CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, opts ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	return c.Client.CreatePolicy(ctx, in, append(opts, noResendOption)...)
}

// CreateAccessKey calls IAM's CreateAccessKey without resending it after a connection
// error that may have followed the request (it still retries throttling, 5xx answers
// and connections that could not be opened at all).
func (c onceIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, opts ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return c.Client.CreateAccessKey(ctx, in, append(opts, noResendOption)...)
}

// noResend is a retryer that does not retry an error after which the request may
// have been carried out.
type noResend struct{ aws.Retryer }

// IsErrorRetryable is the wrapped retryer's answer, except "no" after a lost answer.
func (r noResend) IsErrorRetryable(err error) bool {
	if MaybeSent(err) {
		return false
	}
	return r.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken passes the context on when the wrapped retryer takes one.
func (r noResend) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.GetInitialToken(), nil
}

// MaybeSent reports a transport error after which the request may have reached AWS
// and been carried out: the connection broke, but not while it was being opened.
func MaybeSent(err error) bool {
	if err == nil || Code(err) != "" {
		return false // AWS answered
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false // never connected: nothing was sent
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false
	}
	var conn interface{ ConnectionError() bool }
	if errors.As(err, &conn) && conn.ConnectionError() {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "EOF") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}
