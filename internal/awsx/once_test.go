package awsx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// A CreateAccessKey whose answer is lost must not be sent again by the SDK: the first
// may have created a key, and a second would leave that one behind unnoticed. Other
// calls are still retried.
func TestCreateAccessKeyIsNotResentAfterALostAnswer(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close() // the request arrived; the answer never leaves
		}
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: NewRetryer,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "not-a-secret", "")}
	clients := NewClients(cfg)
	ctx := context.Background()

	_, err := clients.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
	if err == nil || !MaybeSent(err) {
		t.Fatalf("CreateAccessKey: %v, want a connection error after sending", err)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("CreateAccessKey was sent %d times, want once", n)
	}
	for name, create := range map[string]func() error{
		"CreateUser": func() error {
			_, err := clients.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")})
			return err
		},
		"CreateRole": func() error {
			_, err := clients.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{}")})
			return err
		},
		"CreatePolicy": func() error {
			_, err := clients.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{}")})
			return err
		},
	} {
		requests.Store(0)
		if err := create(); !MaybeSent(err) || requests.Load() != 1 {
			t.Errorf("%s: %v after %d requests, want one request and a connection error", name, err, requests.Load())
		}
	}
	if fe, ok := Explain("iam:CreateAccessKey", err).(*FixError); !ok || fe.Fix == "" {
		t.Fatalf("Explain: %v", Explain("iam:CreateAccessKey", err))
	}

	requests.Store(0)
	twice := func(o *iam.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 2) }
	if _, err := clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("u")}, twice); err == nil {
		t.Fatal("ListAccessKeys passed against a server that never answers")
	}
	if n := requests.Load(); n != 2 {
		t.Fatalf("ListAccessKeys was sent %d times: reads must still be retried", n)
	}
}

func TestRetryerIsAdaptiveWithMoreAttempts(t *testing.T) {
	r := NewRetryer()
	if r.MaxAttempts() != MaxAttempts || MaxAttempts <= 3 {
		t.Fatalf("MaxAttempts = %d (const %d), want more than the SDK's 3", r.MaxAttempts(), MaxAttempts)
	}
	if _, ok := r.(*retry.AdaptiveMode); !ok {
		t.Fatalf("%T is not the SDK's adaptive retryer", r)
	}
}
