package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/awsx"
)

// Identity is who the admin credentials belong to and which buckets they can see,
// known before a bucket is chosen (the wizard's welcome screen and bucket picker).
type Identity struct {
	AdminARN  string   `json:"admin_arn"`
	Account   string   `json:"account"`
	Partition string   `json:"partition"`
	Region    string   `json:"region"`
	Buckets   []string `json:"buckets,omitempty"` // sorted; nil when the admin may not list them
	CanList   bool     `json:"can_list"`
	Warnings  []string `json:"warnings,omitempty"`
}

// bucketLister is the one call Identify needs beyond the awsx interfaces.
type bucketLister interface {
	ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
}

// Identify asks who the admin is and, where the admin may, which buckets exist. It
// needs no bucket and validates nothing but the admin profile; it only reads.
func Identify(ctx context.Context, cfg Config) (*Identity, error) {
	awsCfg, err := awsx.Load(ctx, awsx.Target{Profile: cfg.Choices.Profile, Region: cfg.Choices.Region, EndpointURL: cfg.Choices.EndpointURL})
	if err != nil {
		return nil, err
	}
	clients := awsx.NewClients(awsCfg)
	if cfg.Clients != nil {
		clients = *cfg.Clients
	}
	id, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, explainPreflight(err, awsCfg)
	}
	out := &Identity{AdminARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account), Partition: "aws", Region: awsCfg.Region}
	if a, err := arn.Parse(out.AdminARN); err == nil {
		out.Partition = a.Partition
		if a.Resource == "root" {
			out.Warnings = append(out.Warnings, rootWarning)
		}
	}
	lister, ok := clients.S3.(bucketLister)
	if !ok {
		return out, nil
	}
	p := s3.NewListBucketsPaginator(lister, &s3.ListBucketsInput{})
	var buckets []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awsx.IsAccessDenied(err) {
			return out, nil // may not list: the bucket is typed instead
		}
		if err != nil {
			return out, errors.Join(errors.New("listing buckets"), awsx.Explain("s3:ListBuckets", err))
		}
		for _, b := range page.Buckets {
			buckets = append(buckets, aws.ToString(b.Name))
		}
	}
	slices.Sort(buckets)
	out.Buckets, out.CanList = buckets, true
	return out, nil
}
