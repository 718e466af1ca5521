// Command mkbucket creates a bucket on the local emulator for the Quick start and the
// tests (iamwizard itself never creates or deletes buckets).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkbucket NAME (uses AWS_ENDPOINT_URL and the admin credentials in the environment)")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkbucket:", err)
		os.Exit(1)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(os.Args[1])})
	if err != nil {
		var owned interface{ ErrorCode() string }
		if ok := asCode(err, &owned); ok && owned.ErrorCode() == "BucketAlreadyOwnedByYou" {
			return
		}
		fmt.Fprintln(os.Stderr, "mkbucket:", err)
		os.Exit(1)
	}
}

func asCode(err error, target *interface{ ErrorCode() string }) bool {
	for e := err; e != nil; {
		if c, ok := e.(interface{ ErrorCode() string }); ok {
			*target = c
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
