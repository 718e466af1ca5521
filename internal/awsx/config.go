package awsx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultRegion is used for the global IAM and STS calls when no region is configured.
const DefaultRegion = "us-east-1"

// MaxAttempts is how often one call is tried. The SDK's default of 3 fails a 30-call run
// at 20% throttling about one time in five; 10 attempts with adaptive rate limiting make
// that vanishingly rare while a real outage still fails within a minute or two.
const MaxAttempts = 10

// Target says where and as whom to call AWS.
type Target struct {
	Profile     string // shared-config profile; "" follows the SDK's standard chain (env, SSO, ...)
	Region      string // "" uses the profile's or environment's region, else DefaultRegion
	EndpointURL string // "" uses AWS, or AWS_ENDPOINT_URL as the SDK reads it

	// CredentialsFiles and ConfigFiles replace the SDK's default shared files when set
	// (used to load the application's own profiles from where they were written).
	CredentialsFiles []string
	ConfigFiles      []string
}

// Load builds an aws.Config through the SDK's standard chain, with iamwizard's retry policy.
func Load(ctx context.Context, t Target) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(NewRetryer),
	}
	if t.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(t.Profile))
	}
	if t.Region != "" {
		opts = append(opts, config.WithRegion(t.Region))
	}
	if t.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(t.EndpointURL))
	}
	if len(t.CredentialsFiles) > 0 {
		opts = append(opts, config.WithSharedCredentialsFiles(t.CredentialsFiles))
	}
	if len(t.ConfigFiles) > 0 {
		opts = append(opts, config.WithSharedConfigFiles(t.ConfigFiles))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return aws.Config{}, Fix(fmt.Sprintf("the AWS profile %q does not exist", missing.Profile),
				"check the name with `aws configure list-profiles`, or set it up with `aws configure --profile "+missing.Profile+"`")
		}
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

// NewRetryer is the retry policy of every client: adaptive mode (it slows down when
// AWS throttles) with more attempts than the SDK's default.
func NewRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = MaxAttempts
			so.MaxBackoff = 20 * time.Second
		})
	})
}

// CustomEndpoint reports the endpoint in use when it is not AWS's own ("" for AWS).
func CustomEndpoint(cfg aws.Config) string {
	if cfg.BaseEndpoint != nil {
		return *cfg.BaseEndpoint
	}
	return ""
}

// Clients are the three API clients built from one configuration.
type Clients struct {
	IAM IAM
	STS STS
	S3  S3
}

// NewClients builds IAM, STS and S3 clients; with a custom endpoint S3 uses path-style
// addressing, because AWS-compatible endpoints rarely serve bucket subdomains. The SDK
// never resends a CreateAccessKey whose answer was lost (see onceIAM).
func NewClients(cfg aws.Config) Clients {
	custom := CustomEndpoint(cfg) != ""
	return Clients{
		IAM: onceIAM{iam.NewFromConfig(cfg)},
		STS: sts.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = custom
		}),
	}
}

// DefaultSharedFiles returns the credentials and config files the SDK uses by default,
// following AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE as the SDK does.
func DefaultSharedFiles() (credentials, configFile string) {
	credentials = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credentials == "" {
		credentials = config.DefaultSharedCredentialsFilename()
	}
	configFile = os.Getenv("AWS_CONFIG_FILE")
	if configFile == "" {
		configFile = config.DefaultSharedConfigFilename()
	}
	return ExpandHome(credentials), ExpandHome(configFile)
}

// ExpandHome replaces a leading ~/ with the home directory, as a shell would.
func ExpandHome(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + path[1:]
		}
	}
	return path
}
