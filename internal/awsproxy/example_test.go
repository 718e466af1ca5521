package awsproxy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

// Real AWS rejects a trust policy naming a role or user created moments ago
// ("Invalid principal in policy") until the new principal has propagated; an
// emulator accepts it at once. ErrorFault reproduces the AWS answer for the
// first attempt so a test can check that the caller retries.
func ExampleErrorFault_invalidPrincipal() {
	up := newUpstream() // in real tests: the emulator, e.g. "http://127.0.0.1:8333"
	defer up.srv.Close()
	p, err := awsproxy.Start(up.srv.URL)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	up.expectHost(strings.TrimPrefix(p.URL(), "http://"))

	p.AddFault(awsproxy.ErrorFault("InvalidPrincipal",
		awsproxy.ByOperation("CreateRole", "UpdateAssumeRolePolicy"),
		400, "MalformedPolicyDocument",
		`Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/just-created"`,
		1))

	client := iam.NewFromConfig(awsConfig(p, adminKey, false)) // aws.NopRetryer
	input := &iam.CreateRoleInput{
		RoleName:                 aws.String("app"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	}
	_, err = client.CreateRole(context.Background(), input)
	var mpd *iamtypes.MalformedPolicyDocumentException
	if errors.As(err, &mpd) {
		fmt.Println(mpd.ErrorCode()+":", mpd.ErrorMessage())
	}
	_, err = client.CreateRole(context.Background(), input)
	fmt.Println("second attempt error:", err)

	for _, c := range p.Calls() {
		fmt.Println(c.Service, c.Operation, c.Status, c.Injected, awsproxy.IsIAMWrite(c.Operation))
	}
	// Output:
	// MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/just-created"
	// second attempt error: <nil>
	// iam CreateRole 400 InvalidPrincipal true
	// iam CreateRole 200  true
}

// A test that a second apply changes nothing counts IAM write calls.
func ExampleProxy_IAMWrites() {
	up := newUpstream()
	defer up.srv.Close()
	p, err := awsproxy.Start(up.srv.URL)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	up.expectHost(strings.TrimPrefix(p.URL(), "http://"))

	client := iam.NewFromConfig(awsConfig(p, adminKey, false))
	ctx := context.Background()
	_, _ = client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	_, _ = client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app")})
	fmt.Println("IAM writes:", len(p.IAMWrites()))
	fmt.Println("calls:", p.Counts())
	// Output:
	// IAM writes: 0
	// calls: map[iam:GetRole:1 iam:ListAttachedRolePolicies:1]
}
