// Package appfiles says what iamwizard writes into the files an application reads:
// the credentials profile with the user's key, the role profile in the shared config
// file, and optionally the classic application's INI file.
package appfiles

import (
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/setup"
)

// Files says where the application's files are and what its profiles are called.
type Files struct {
	CredentialsFile string `json:"credentials_file"`
	ConfigFile      string `json:"config_file"`
	AppConfig       string `json:"app_config,omitempty"` // "" when not wanted
	AppProfile      string `json:"app_profile"`          // holds the user's access key
	RoleProfile     string `json:"role_profile"`         // assumes the role with the app profile
	Region          string `json:"region"`               // the bucket's region
	Endpoint        string `json:"endpoint,omitempty"`   // a custom endpoint, "" for AWS
}

// ServicesName is the [services NAME] section that points a profile's STS and S3 calls
// at a custom endpoint. It is needed because the SDK's assume-role provider does not
// follow a profile's endpoint_url or AWS_ENDPOINT_URL for its own STS call.
func (f Files) ServicesName() string { return "iamwizard-" + f.AppProfile }

// ConfigSections are the sections of the shared config file: the app profile's region,
// the role profile (role_arn + source_profile, so any SDK assumes the role by itself),
// and for a custom endpoint the services section both profiles name.
func (f Files) ConfigSections(s setup.Setup) []creds.Section {
	app := []creds.KV{{Key: "region", Value: f.Region}}
	role := []creds.KV{
		{Key: "role_arn", Value: s.RoleARN()},
		{Key: "source_profile", Value: f.AppProfile},
		{Key: "region", Value: f.Region},
	}
	sections := []creds.Section{}
	if f.Endpoint != "" {
		app = append(app, creds.KV{Key: "services", Value: f.ServicesName()})
		role = append(role, creds.KV{Key: "services", Value: f.ServicesName()})
	}
	sections = append(sections,
		creds.Section{Name: "profile " + f.AppProfile, Keys: app},
		creds.Section{Name: "profile " + f.RoleProfile, Keys: role})
	if f.Endpoint != "" {
		sections = append(sections, creds.Section{Name: "services " + f.ServicesName(), Keys: []creds.KV{
			{Key: "sts", Nested: []creds.KV{{Key: "endpoint_url", Value: f.Endpoint}}},
			{Key: "s3", Nested: []creds.KV{{Key: "endpoint_url", Value: f.Endpoint}}},
		}})
	}
	return sections
}

// AppConfigSections is the classic application's INI file: which role to assume with
// which profile, and the bucket to write to.
func (f Files) AppConfigSections(s setup.Setup) []creds.Section {
	return []creds.Section{{Name: "AWS", Keys: []creds.KV{
		{Key: "RoleArn", Value: s.RoleARN()},
		{Key: "BucketName", Value: s.Bucket},
		{Key: "Profile", Value: f.AppProfile},
	}}}
}

// CredentialsSection is the app profile in the credentials file.
func (f Files) CredentialsSection(keyID, secret string) creds.Section {
	return creds.Section{Name: f.AppProfile, Keys: []creds.KV{
		{Key: "aws_access_key_id", Value: keyID},
		{Key: "aws_secret_access_key", Value: secret},
	}}
}

// StoredKeyID returns the access key id of the app profile in the credentials file ("" when none).
func (f Files) StoredKeyID() (string, error) {
	sections, err := creds.Read(f.CredentialsFile)
	if err != nil {
		return "", err
	}
	return sections[f.AppProfile]["aws_access_key_id"], nil
}
