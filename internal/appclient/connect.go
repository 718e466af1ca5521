package appclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
)

// ExpiryWindow is how long before the role credentials expire they are renewed. A part
// of a multipart upload signed at the last second could otherwise reach S3 after the
// credentials expired and fail with ExpiredToken; five minutes covers slow parts.
const ExpiryWindow = 5 * time.Minute

// SessionName names the role sessions this package starts, so CloudTrail shows them.
const SessionName = "iamwizard-app"

// Client is a connection to S3 as the application's role.
type Client struct {
	Identity Identity
	Config   aws.Config // credentials: the role's, in a cache renewing them early
	S3       *s3.Client
	// RoleARN is the role assumed (from the identity or the role profile's role_arn).
	RoleARN string
}

// NewCache wraps provider in the SDK's credentials cache with ExpiryWindow, so that
// callers get fresh credentials well before the old ones expire.
func NewCache(provider aws.CredentialsProvider) *aws.CredentialsCache {
	return aws.NewCredentialsCache(provider, cacheOptions)
}

func cacheOptions(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = ExpiryWindow }

// Connect loads the application's identity, assumes its role once (so a wrong profile
// or a denied role is reported now, not halfway through an upload) and builds an S3
// client. It never reads credentials from the environment: the profile is explicit.
func Connect(ctx context.Context, id Identity) (*Client, error) {
	if err := id.Validate(); err != nil {
		return nil, err
	}
	credsFile, configFile := id.Files()
	cfg, err := load(ctx, id.Profile(), credsFile, configFile)
	if err != nil {
		return nil, explainLoad(err, id, credsFile, configFile)
	}
	c := &Client{Identity: id, RoleARN: id.RoleARN}
	if id.RoleARN != "" {
		// The STS client is built from the app profile's configuration, so it follows
		// the profile's services section (a custom endpoint) for its own call.
		cfg.Credentials = NewCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), id.RoleARN,
			func(ao *stscreds.AssumeRoleOptions) { ao.RoleSessionName = SessionName }))
	} else {
		sections, _ := creds.Read(configFile)
		c.RoleARN = sections["profile "+id.RoleProfile]["role_arn"]
	}
	got, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, c.explainAssume(err)
	}
	if !got.CanExpire {
		return nil, &awsx.FixError{
			Summary: fmt.Sprintf("profile [%s] in %s does not assume a role: it has long-lived keys of its own", id.RoleProfile, configFile),
			Fix:     "name the role profile iamwizard wrote (role_arn + source_profile) with --role-profile, or run `iamwizard apply` to write it",
			Err:     errNoRole,
		}
	}
	c.Config = cfg
	c.S3 = s3.NewFromConfig(cfg, func(so *s3.Options) {
		// BaseEndpoint is set here by a custom endpoint, whether it came from the
		// environment or the profile's services section; such endpoints rarely serve
		// bucket subdomains.
		so.UsePathStyle = so.BaseEndpoint != nil
	})
	return c, nil
}

// load reads one profile from the given files with iamwizard's retry policy and the
// early-renewing credentials cache.
func load(ctx context.Context, profile, credsFile, configFile string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(awsx.NewRetryer),
		config.WithSharedConfigProfile(profile),
		config.WithSharedCredentialsFiles([]string{credsFile}),
		config.WithSharedConfigFiles([]string{configFile}),
		config.WithCredentialsCacheOptions(cacheOptions),
		config.WithAssumeRoleCredentialOptions(assumeRoleOptions),
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = awsx.DefaultRegion
	}
	return cfg, nil
}

// assumeRoleOptions adjusts the SDK's assume-role provider of a role profile. With
// AWS_ENDPOINT_URL set and AWS_ENDPOINT_URL_STS not, the SDK sends the provider's
// AssumeRole to AWS instead of that endpoint (the base endpoint is resolved only after
// credentials); pointing the provider's client at it makes the role follow the
// endpoint every other call uses, without changing the process's environment.
func assumeRoleOptions(ao *stscreds.AssumeRoleOptions) {
	if ao.RoleSessionName == "" {
		ao.RoleSessionName = SessionName
	}
	ep, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, specific := os.LookupEnv("AWS_ENDPOINT_URL_STS")
	if !global || specific || ep == "" {
		return
	}
	if client, ok := ao.Client.(*sts.Client); ok {
		ao.Client = sts.New(client.Options(), func(so *sts.Options) { so.BaseEndpoint = aws.String(ep) })
	}
}

// explainLoad names the profile and files when the SDK cannot load the profile.
func explainLoad(err error, id Identity, credsFile, configFile string) error {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return &awsx.FixError{
			Summary: fmt.Sprintf("the profile [%s] (from %s) is in neither %s nor %s", missing.Profile, id.Source, configFile, credsFile),
			Fix:     "name the application's profile with --role-profile / --app-profile (and --config-file / --credentials-file), or run `iamwizard apply` to write it",
			Err:     err,
		}
	}
	return &awsx.FixError{Summary: fmt.Sprintf("cannot load the profile [%s] from %s and %s: %v", id.Profile(), configFile, credsFile, err),
		Fix: "run `iamwizard verify` to check the application's profiles, or `iamwizard apply` to rewrite them", Err: err}
}

// explainAssume explains a failure to get the role's credentials.
func (c *Client) explainAssume(err error) error {
	id := c.Identity
	source := id.AppProfile
	credsFile, configFile := id.Files()
	role := c.RoleARN
	if role == "" {
		role = "the role of profile [" + id.RoleProfile + "]"
	}
	var missing config.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &missing):
		return &awsx.FixError{Summary: fmt.Sprintf("the profile [%s] that holds the application's key is in neither %s nor %s", missing.Profile, credsFile, configFile),
			Fix: "run `iamwizard apply` to store the key, or point --credentials-file at the file that has it", Err: err}
	case awsx.IsAccessDenied(err):
		return &awsx.FixError{Summary: fmt.Sprintf("the user of profile [%s] may not assume %s (AccessDenied)", source, role),
			Fix: "run `iamwizard verify` as the administrator: it names the side that denies it (the role's trust policy or the user's policy)", Err: err}
	case awsx.IsUnknownKey(err):
		return &awsx.FixError{Summary: fmt.Sprintf("AWS does not recognise the access key of profile [%s] in %s (%s)", source, credsFile, awsx.Code(err)),
			Fix: "the key was deleted or deactivated, or is brand new and not yet visible: run `iamwizard apply` to store a working one", Err: err}
	case awsx.Code(err) == "SignatureDoesNotMatch":
		return &awsx.FixError{Summary: fmt.Sprintf("the secret of profile [%s] in %s does not match its key", source, credsFile),
			Fix: "run `iamwizard apply --replace-key KEY_ID` to issue and store a new key, and check this machine's clock", Err: err}
	case awsx.IsUnreachable(err):
		return &awsx.FixError{Summary: "cannot reach STS to assume " + role,
			Fix: "check the network, any proxy, and the endpoint in the profile's services section / AWS_ENDPOINT_URL", Err: err}
	}
	return &awsx.FixError{Summary: fmt.Sprintf("cannot assume %s with profile [%s]: %v", role, source, firstLine(err)),
		Fix: "run `iamwizard verify` to check the setup as the application", Err: err}
}
