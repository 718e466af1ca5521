package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
)

// options are the flags shared by the commands that work on a setup.
type options struct {
	choices            settings.Choices
	maxSession         int
	propagationTimeout time.Duration
	noWrite            bool
	adopt              bool
	showSecret         bool
	replaceKey         string
	deleteKey          string
	maxKeyAgeDays      int
	output             string
	yes                bool
	settingsPath       string
}

func (o *options) register(fs *pflag.FlagSet) {
	c := &o.choices
	fs.StringVar(&c.Profile, "profile", "", "admin profile to use (default: the SDK's standard chain: env, AWS_PROFILE, SSO, ...)")
	fs.StringVar(&c.Region, "region", "", "region for STS and S3 calls (default: the profile's; the bucket's own region is learned)")
	fs.StringVar(&c.EndpointURL, "endpoint-url", "", "an AWS-compatible endpoint instead of AWS (AWS_ENDPOINT_URL is honoured too)")
	fs.StringVar(&c.Bucket, "bucket", "", "the existing bucket the application writes to (required on the first run)")
	fs.StringVar(&c.KeyPrefix, "key-prefix", "", "the folder the application may write under, ending in / (default: the whole bucket)")
	fs.StringVar(&c.UserName, "user", "", "IAM user name (default application-user)")
	fs.StringVar(&c.RoleName, "role", "", "IAM role name (default application-role)")
	fs.StringVar(&c.UserPolicyName, "user-policy", "", "managed policy letting the user assume the role (default assume-role-policy)")
	fs.StringVar(&c.RolePolicyName, "role-policy", "", "managed policy letting the role put objects (default allow-put-s3-object)")
	fs.StringVar(&c.AppProfile, "app-profile", "", "profile holding the user's key in the credentials file (default application-user)")
	fs.StringVar(&c.RoleProfile, "role-profile", "", "profile that assumes the role, in the config file (default application-role)")
	fs.StringVar(&c.CredentialsFile, "credentials-file", "", "where the application's key goes (default: the SDK's, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)")
	fs.StringVar(&c.ConfigFile, "config-file", "", "where the application's profiles go (default: the SDK's, AWS_CONFIG_FILE or ~/.aws/config)")
	fs.StringVar(&c.AppConfig, "app-config", "", "also write the classic application's INI file ([AWS] RoleArn, BucketName, Profile) here")
	fs.IntVar(&o.maxSession, "max-session-duration", 0, "the role's maximum session in seconds, 3600 to 43200 (default 3600)")
	fs.DurationVar(&o.propagationTimeout, "propagation-timeout", engine.DefaultPropagationTimeout, "how long to wait for IAM to make a new user, key or policy visible")
	fs.BoolVar(&o.noWrite, "no-write", false, "verify without uploading a test object (for checks from cron)")
	fs.BoolVar(&o.adopt, "adopt", false, "take over an existing user, role or policy of the same name that iamwizard did not create")
	fs.StringVar(&o.replaceKey, "replace-key", "", "at IAM's limit of 2 access keys, delete this key (by id) to make room for a new one")
	fs.StringVar(&o.deleteKey, "delete-key", "", "delete this access key (by id) of the user, which iamwizard did not create; only when nothing uses it")
	fs.IntVar(&o.maxKeyAgeDays, "max-key-age", 90, "warn when the stored access key is older than this many days")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	fs.StringVar(&o.settingsPath, "settings", "", "the settings file remembering your choices (default: iamwizard/settings.json in your config directory, or IAMWIZARD_SETTINGS)")
}

// resolve merges explicit flags over the remembered choices.
func (o *options) resolve(cmd *cobra.Command) (engine.Config, error) {
	if o.output != "text" && o.output != "json" {
		return engine.Config{}, fmt.Errorf("--output: %q is not text or json", o.output)
	}
	path := o.settingsPath
	if path == "" {
		var err error
		if path, err = settings.DefaultPath(); err != nil {
			return engine.Config{}, err
		}
	}
	store := settings.Store{Path: path}
	remembered, err := store.Load()
	if err != nil {
		return engine.Config{}, err
	}
	merged := remembered.Choices
	flags := cmd.Flags()
	pick := func(name string, dst *string, v string) {
		if flags.Changed(name) {
			*dst = v
		}
	}
	c := o.choices
	pick("profile", &merged.Profile, c.Profile)
	pick("region", &merged.Region, c.Region)
	pick("endpoint-url", &merged.EndpointURL, c.EndpointURL)
	pick("bucket", &merged.Bucket, c.Bucket)
	pick("key-prefix", &merged.KeyPrefix, c.KeyPrefix)
	pick("user", &merged.UserName, c.UserName)
	pick("role", &merged.RoleName, c.RoleName)
	pick("user-policy", &merged.UserPolicyName, c.UserPolicyName)
	pick("role-policy", &merged.RolePolicyName, c.RolePolicyName)
	pick("app-profile", &merged.AppProfile, c.AppProfile)
	pick("role-profile", &merged.RoleProfile, c.RoleProfile)
	pick("credentials-file", &merged.CredentialsFile, c.CredentialsFile)
	pick("config-file", &merged.ConfigFile, c.ConfigFile)
	pick("app-config", &merged.AppConfig, c.AppConfig)
	if flags.Changed("max-session-duration") {
		merged.MaxSessionDuration = int32(min(max(o.maxSession, -1), 1<<30))
		if o.maxSession < 3600 || o.maxSession > 43200 {
			return engine.Config{}, fmt.Errorf("--max-session-duration: %d s: IAM allows 3600 to 43200 seconds (1 to 12 hours)", o.maxSession)
		}
	}
	if o.maxKeyAgeDays < 1 {
		return engine.Config{}, fmt.Errorf("--max-key-age must be at least 1 day")
	}
	if o.propagationTimeout <= 0 {
		return engine.Config{}, fmt.Errorf("--propagation-timeout must be positive, like 60s or 2m")
	}
	return engine.Config{
		Choices:            merged,
		PropagationTimeout: o.propagationTimeout,
		NoWrite:            o.noWrite,
		Adopt:              o.adopt,
		ReplaceKey:         o.replaceKey,
		DeleteKey:          o.deleteKey,
		MaxKeyAge:          time.Duration(o.maxKeyAgeDays) * 24 * time.Hour,
		Store:              store,
	}, nil
}
