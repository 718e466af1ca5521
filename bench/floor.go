package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// floorChildArg starts this binary as the floor program (scenario b0).
const floorChildArg = "__floor"

// floorEnv carries the floor program's job, as JSON, to the child process.
const floorEnv = "IAMWIZARD_BENCH_FLOOR"

// job is one setup to create: names, documents and where.
type job struct {
	Endpoint    string `json:"endpoint"`
	AdminKey    string `json:"admin_key"`
	AdminSecret string `json:"admin_secret"`
	Bucket      string `json:"bucket"`
	Key         string `json:"key"` // the object put at the end
	User        string `json:"user"`
	Role        string `json:"role"`
	UserPolicy  string `json:"user_policy"`
	RolePolicy  string `json:"role_policy"`
	UserDoc     string `json:"user_doc"`
	RoleDoc     string `json:"role_doc"`
	TrustDoc    string `json:"trust_doc"`
}

// floorChild is the main of the floor program: the job from the environment, then exit.
func floorChild() int {
	var j job
	if err := json.Unmarshal([]byte(os.Getenv(floorEnv)), &j); err != nil {
		fmt.Fprintf(os.Stderr, "floor: bad job: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := floor(ctx, j); err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		return 1
	}
	return 0
}

// floor makes exactly the ten calls of the classic setup with aws-sdk-go-v2 and
// nothing else: plain clients, static credentials, no checks, no retries of its own.
func floor(ctx context.Context, j job) error {
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(j.Endpoint)}
	admin := base.Copy()
	admin.Credentials = credentials.NewStaticCredentialsProvider(j.AdminKey, j.AdminSecret, "")
	ic := iam.NewFromConfig(admin)

	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: &j.User}); err != nil {
		return fmt.Errorf("CreateUser: %w", err)
	}
	up, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &j.UserPolicy, PolicyDocument: &j.UserDoc})
	if err != nil {
		return fmt.Errorf("CreatePolicy %s: %w", j.UserPolicy, err)
	}
	rp, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: &j.RolePolicy, PolicyDocument: &j.RoleDoc})
	if err != nil {
		return fmt.Errorf("CreatePolicy %s: %w", j.RolePolicy, err)
	}
	if _, err := ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &j.User, PolicyArn: up.Policy.Arn}); err != nil {
		return fmt.Errorf("AttachUserPolicy: %w", err)
	}
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &j.Role, AssumeRolePolicyDocument: &j.TrustDoc})
	if err != nil {
		return fmt.Errorf("CreateRole: %w", err)
	}
	if _, err := ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &j.Role, PolicyArn: rp.Policy.Arn}); err != nil {
		return fmt.Errorf("AttachRolePolicy: %w", err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &j.User})
	if err != nil {
		return fmt.Errorf("CreateAccessKey: %w", err)
	}

	user := base.Copy()
	user.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	sc := sts.NewFromConfig(user)
	if _, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	assumed, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("bench")})
	if err != nil {
		return fmt.Errorf("AssumeRole: %w", err)
	}

	roleCfg := base.Copy()
	c := assumed.Credentials
	roleCfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	s3c := s3.NewFromConfig(roleCfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &j.Bucket, Key: &j.Key, Body: strings.NewReader("iamwizard benchmark\n")}); err != nil {
		return fmt.Errorf("PutObject: %w", err)
	}
	return nil
}
