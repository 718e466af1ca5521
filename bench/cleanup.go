package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// cleanup deletes everything a job's scenario created, its bucket included, straight at
// the emulator (never counted or timed). The emulator's IAM calls slow down as its IAM
// state grows, so without this every round would run against more users, roles and
// policies than the one before, and the creating scenarios would drift slower.
func (h *harness) cleanup(ctx context.Context, j job) error {
	ic := iam.NewFromConfig(h.adminConfig())
	var errs []error
	keep := func(op string, err error) {
		var nse *iamtypes.NoSuchEntityException
		var ae smithy.APIError
		if err == nil || errors.As(err, &nse) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity") {
			return
		}
		errs = append(errs, fmt.Errorf("%s: %w", op, err))
	}
	upARN := fmt.Sprintf("arn:%s:iam::%s:policy/%s", h.part, h.account, j.UserPolicy)
	rpARN := fmt.Sprintf("arn:%s:iam::%s:policy/%s", h.part, h.account, j.RolePolicy)
	if keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: &j.User}); err == nil {
		for _, k := range keys.AccessKeyMetadata {
			_, err := ic.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &j.User, AccessKeyId: k.AccessKeyId})
			keep("DeleteAccessKey", err)
		}
	} else {
		keep("ListAccessKeys", err)
	}
	_, err := ic.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &j.User, PolicyArn: &upARN})
	keep("DetachUserPolicy", err)
	_, err = ic.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &j.Role, PolicyArn: &rpARN})
	keep("DetachRolePolicy", err)
	_, err = ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &j.Role})
	keep("DeleteRole", err)
	_, err = ic.DeleteUser(ctx, &iam.DeleteUserInput{UserName: &j.User})
	keep("DeleteUser", err)
	for _, p := range []string{upARN, rpARN} {
		_, err = ic.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(p)})
		keep("DeletePolicy", err)
	}

	objects, err := h.direct.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &j.Bucket})
	if err != nil {
		errs = append(errs, fmt.Errorf("ListObjectsV2: %w", err))
	} else {
		for _, o := range objects.Contents {
			if _, err := h.direct.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &j.Bucket, Key: o.Key}); err != nil {
				errs = append(errs, fmt.Errorf("DeleteObject: %w", err))
			}
		}
		if _, err := h.direct.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &j.Bucket}); err != nil {
			errs = append(errs, fmt.Errorf("DeleteBucket: %w", err))
		}
	}
	return errors.Join(errs...)
}
