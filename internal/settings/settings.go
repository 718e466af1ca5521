// Package settings remembers an administrator's choices and what iamwizard manages,
// so `iamwizard apply --yes` with no other flag re-runs the same setup.
//
// It never holds a secret: access keys live only in the shared credentials file.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// Choices are what the administrator chose; empty means "not chosen, use the default".
type Choices struct {
	Profile            string `json:"profile,omitempty"`
	Region             string `json:"region,omitempty"`
	EndpointURL        string `json:"endpoint_url,omitempty"`
	Bucket             string `json:"bucket,omitempty"`
	KeyPrefix          string `json:"key_prefix,omitempty"`
	UserName           string `json:"user,omitempty"`
	RoleName           string `json:"role,omitempty"`
	UserPolicyName     string `json:"user_policy,omitempty"`
	RolePolicyName     string `json:"role_policy,omitempty"`
	AppProfile         string `json:"app_profile,omitempty"`
	RoleProfile        string `json:"role_profile,omitempty"`
	CredentialsFile    string `json:"credentials_file,omitempty"`
	ConfigFile         string `json:"config_file,omitempty"`
	AppConfig          string `json:"app_config,omitempty"`
	MaxSessionDuration int32  `json:"max_session_duration,omitempty"`
}

// Managed records an IAM entity this tool created (or was told to adopt). It backs up
// the managed-by tag, which some AWS-compatible endpoints cannot store.
type Managed struct {
	Kind    string    `json:"kind"` // "user", "role", "policy"
	Name    string    `json:"name"`
	Account string    `json:"account"`
	Since   time.Time `json:"since"`
}

// KeyIntent is written just before CreateAccessKey: if the run dies before the secret
// is stored, the next run recognises the key it created and removes it.
type KeyIntent struct {
	Account string    `json:"account"`
	User    string    `json:"user"`
	Started time.Time `json:"started"`
}

// RetiredKey is a key that rotate-key replaced and deactivated; it is deleted once
// the administrator confirms the application was restarted (a running application may
// still hold it in memory).
type RetiredKey struct {
	Account string    `json:"account"`
	User    string    `json:"user"`
	KeyID   string    `json:"key_id"`
	Retired time.Time `json:"retired"`
}

// Settings is the whole file.
type Settings struct {
	Choices     Choices      `json:"choices"`
	Managed     []Managed    `json:"managed,omitempty"`
	KeyIntents  []KeyIntent  `json:"key_intents,omitempty"`
	RetiredKeys []RetiredKey `json:"retired_keys,omitempty"`
}

// Retired returns the retired keys of the user.
func (s *Settings) Retired(account, user string) []RetiredKey {
	var out []RetiredKey
	for _, k := range s.RetiredKeys {
		if k.Account == account && k.User == user {
			out = append(out, k)
		}
	}
	return out
}

// IsManaged reports whether the entity is recorded as managed by this tool.
func (s *Settings) IsManaged(kind, account, name string) bool {
	for _, m := range s.Managed {
		// IAM names are unique ignoring case.
		if m.Kind == kind && m.Account == account && strings.EqualFold(m.Name, name) {
			return true
		}
	}
	return false
}

// MarkManaged records that the tool manages the entity (idempotent).
func (s *Settings) MarkManaged(kind, account, name string, now time.Time) {
	if !s.IsManaged(kind, account, name) {
		s.Managed = append(s.Managed, Managed{Kind: kind, Name: name, Account: account, Since: now})
	}
}

// Forget removes the record of a managed entity (after it was deleted).
func (s *Settings) Forget(kind, account, name string) {
	kept := s.Managed[:0]
	for _, m := range s.Managed {
		if m.Kind != kind || m.Account != account || !strings.EqualFold(m.Name, name) {
			kept = append(kept, m)
		}
	}
	s.Managed = kept
}

// DefaultPath is settings.json in iamwizard's directory under the user's config
// directory; IAMWIZARD_SETTINGS overrides it.
func DefaultPath() (string, error) {
	if p := os.Getenv("IAMWIZARD_SETTINGS"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory for the settings file: %w (set IAMWIZARD_SETTINGS)", err)
	}
	return filepath.Join(dir, "iamwizard", "settings.json"), nil
}

// Store reads and writes the settings file under a lock, so two runs at once on one
// machine never lose each other's records.
type Store struct {
	Path string
}

// Load reads the settings; a missing file is an empty Settings.
func (st Store) Load() (*Settings, error) {
	var s Settings
	b, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return &s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading settings %s: %w", st.Path, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("settings %s is damaged (%v): fix or remove it; it holds no secrets", st.Path, err)
	}
	return &s, nil
}

// Update applies change to the current settings under an exclusive lock and writes the
// result atomically (0600 in a 0700 directory).
func (st Store) Update(change func(*Settings)) error {
	if err := os.MkdirAll(filepath.Dir(st.Path), 0o700); err != nil {
		return fmt.Errorf("creating the settings directory: %w", err)
	}
	lock := flock.New(st.Path + ".lock")
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("locking settings %s: %w", st.Path, err)
	}
	defer func() { _ = lock.Unlock() }()
	s, err := st.Load()
	if err != nil {
		return err
	}
	change(s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	// Most updates (a choice remembered again, a record already there) change nothing:
	// skip the write, and its fsyncs and rename, when the file already says this.
	if current, err := os.ReadFile(st.Path); err == nil && bytes.Equal(current, b) {
		return nil
	}
	if err := renameio.WriteFile(st.Path, b, 0o600); err != nil {
		return fmt.Errorf("writing settings %s: %w", st.Path, err)
	}
	return nil
}

// sectionName is how a section of a shared file is recorded among the managed entities.
func sectionName(path, section string) string { return path + " [" + section + "]" }

// OwnsSection reports whether iamwizard wrote this section of this file.
func (s *Settings) OwnsSection(path, section string) bool {
	for _, m := range s.Managed {
		if m.Kind == "profile" && m.Name == sectionName(path, section) {
			return true
		}
	}
	return false
}

// MarkSection records that iamwizard wrote this section of this file (idempotent).
func (s *Settings) MarkSection(path, section string, now time.Time) {
	if !s.OwnsSection(path, section) {
		s.Managed = append(s.Managed, Managed{Kind: "profile", Name: sectionName(path, section), Since: now})
	}
}

// ForgetSection removes the record of a section (after it was removed).
func (s *Settings) ForgetSection(path, section string) {
	kept := s.Managed[:0]
	for _, m := range s.Managed {
		if m.Kind != "profile" || m.Name != sectionName(path, section) {
			kept = append(kept, m)
		}
	}
	s.Managed = kept
}
