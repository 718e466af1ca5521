// Package appclient connects to S3 the way the application does: with the
// application's own identity only (its role profile, or its key profile plus the
// role's ARN), never with an administrator's credentials, and with role credentials
// that are renewed before they expire.
package appclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// Identity is the application's identity and destination: which profiles in which
// files, and the bucket and prefix it writes to.
type Identity struct {
	// RoleARN, when set, is assumed with AppProfile's key; when empty RoleProfile is
	// loaded and the SDK assumes the role its role_arn names.
	RoleARN     string
	RoleProfile string
	AppProfile  string
	// CredentialsFile and ConfigFile are the shared files holding the profiles ("" for
	// the SDK's defaults, which follow AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE).
	CredentialsFile string
	ConfigFile      string
	Bucket          string
	KeyPrefix       string // "" for the whole bucket, else a folder ending in "/"
	// Source says where the identity was read from, for messages.
	Source string
}

// Profile is the profile this identity loads: the app profile when the role's ARN is
// known, else the role profile.
func (id Identity) Profile() string {
	if id.RoleARN != "" {
		return id.AppProfile
	}
	return id.RoleProfile
}

// Files returns the credentials and config files in use, with the SDK's defaults filled in.
func (id Identity) Files() (credentials, config string) {
	credentials, config = awsx.DefaultSharedFiles()
	if id.CredentialsFile != "" {
		credentials = id.CredentialsFile
	}
	if id.ConfigFile != "" {
		config = id.ConfigFile
	}
	return credentials, config
}

// Sources are where an identity may come from; explicit values win over files.
type Sources struct {
	// AppConfig is the classic application's INI file ([AWS] RoleArn, BucketName, Profile).
	AppConfig string
	// SettingsPath is iamwizard's settings file ("" for settings.DefaultPath).
	SettingsPath string

	// Explicit values, typically from flags; "" means "not given".
	RoleARN         string
	RoleProfile     string
	AppProfile      string
	Bucket          string
	KeyPrefix       string
	KeyPrefixSet    bool // KeyPrefix was given, even if "" (the whole bucket)
	CredentialsFile string
	ConfigFile      string
}

// Resolve finds the application's identity: the classic application's INI file when one
// is named, else the choices iamwizard remembered at apply, with explicit values on top.
// It reads files only; it makes no call.
func Resolve(src Sources) (Identity, error) {
	var id Identity
	remembered, settingsPath, err := loadSettings(src.SettingsPath)
	if err != nil {
		return Identity{}, err
	}
	c := remembered.Choices
	id.RoleProfile, id.AppProfile = c.RoleProfile, c.AppProfile
	id.CredentialsFile, id.ConfigFile = c.CredentialsFile, c.ConfigFile
	id.Bucket, id.KeyPrefix = c.Bucket, c.KeyPrefix
	if c.Bucket != "" {
		id.Source = "settings " + settingsPath
	}
	if src.AppConfig != "" {
		if err := readAppConfig(src.AppConfig, &id); err != nil {
			return Identity{}, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&id.RoleARN, src.RoleARN)
	set(&id.RoleProfile, src.RoleProfile)
	set(&id.AppProfile, src.AppProfile)
	set(&id.Bucket, src.Bucket)
	set(&id.CredentialsFile, src.CredentialsFile)
	set(&id.ConfigFile, src.ConfigFile)
	if src.KeyPrefixSet || src.KeyPrefix != "" {
		id.KeyPrefix = src.KeyPrefix
	}
	if id.Source == "" {
		id.Source = "the command line"
	}
	if id.RoleProfile == "" {
		id.RoleProfile = setup.DefaultRoleProfile
	}
	if id.AppProfile == "" {
		id.AppProfile = setup.DefaultAppProfile
	}
	return id, id.Validate()
}

// Validate checks the identity before any file is loaded or call made.
func (id Identity) Validate() error {
	if id.Bucket == "" {
		return awsx.Fix("no bucket to upload to: no iamwizard setup was found on this machine and none was named",
			"pass --app-config with the application's config file ([AWS] RoleArn, BucketName, Profile), or --bucket with --role-profile, or run `iamwizard apply` first")
	}
	if err := setup.ValidateBucket(id.Bucket); err != nil {
		return fmt.Errorf("bucket %q (from %s): %w", id.Bucket, id.Source, err)
	}
	if err := setup.ValidateKeyPrefix(id.KeyPrefix); err != nil {
		return fmt.Errorf("key prefix (from %s): %w", id.Source, err)
	}
	if id.RoleARN != "" {
		a, err := arn.Parse(id.RoleARN)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			return awsx.Fix(fmt.Sprintf("%q (from %s) is not a role's ARN", id.RoleARN, id.Source),
				"a role ARN looks like arn:aws:iam::123456789012:role/application-role")
		}
	}
	for _, p := range []string{id.RoleProfile, id.AppProfile} {
		if err := creds.ValidateName(p); err != nil || strings.ContainsAny(p, " \t") {
			return fmt.Errorf("profile name %q (from %s) is not usable", p, id.Source)
		}
	}
	return nil
}

func loadSettings(path string) (*settings.Settings, string, error) {
	if path == "" {
		var err error
		if path, err = settings.DefaultPath(); err != nil {
			// Without a config directory there are simply no remembered settings.
			return &settings.Settings{}, "", nil
		}
	}
	s, err := settings.Store{Path: path}.Load()
	return s, path, err
}

// readAppConfig reads the classic application's [AWS] section. A file that is named
// but missing is an error: the application would not start either.
func readAppConfig(path string, id *Identity) error {
	sections, err := creds.Read(path)
	if err != nil {
		return fmt.Errorf("reading the application's config %s: %w", path, err)
	}
	aws, ok := sections["AWS"]
	if !ok {
		if len(sections) == 0 {
			return awsx.Fix(fmt.Sprintf("the application's config %s is missing or empty", path),
				"check the path, or let `iamwizard apply --app-config "+path+"` write it")
		}
		return awsx.Fix(fmt.Sprintf("the application's config %s has no [AWS] section", path),
			"it needs [AWS] with RoleArn, BucketName and Profile; `iamwizard apply --app-config "+path+"` writes them")
	}
	var missing []string
	for _, k := range []string{"RoleArn", "BucketName", "Profile"} {
		if strings.TrimSpace(aws[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return awsx.Fix(fmt.Sprintf("the [AWS] section of %s lacks %s", path, strings.Join(missing, ", ")),
			"`iamwizard apply --app-config "+path+"` writes them")
	}
	id.RoleARN = strings.TrimSpace(aws["RoleArn"])
	if b := strings.TrimSpace(aws["BucketName"]); b != id.Bucket {
		// Another bucket than the remembered one: the remembered prefix belongs to that one.
		id.KeyPrefix = ""
	}
	id.Bucket = strings.TrimSpace(aws["BucketName"])
	id.AppProfile = strings.TrimSpace(aws["Profile"])
	id.Source = "the application's config " + path
	return nil
}

// errNoRole marks a profile that has long-lived keys of its own instead of a role.
var errNoRole = errors.New("the profile does not assume a role")
