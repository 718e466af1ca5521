package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
)

// intents returns when CreateAccessKey calls for this user started on this machine
// without their secret being stored.
func intents(s *settings.Settings, account, user string) []time.Time {
	var out []time.Time
	for _, k := range s.KeyIntents {
		if k.Account == account && k.User == user {
			out = append(out, k.Started)
		}
	}
	return out
}

// KeyIntents reads the pending key intents for the user from the settings store.
func KeyIntents(store settings.Store, account, user string) ([]time.Time, error) {
	s, err := store.Load()
	if err != nil {
		return nil, err
	}
	return intents(s, account, user), nil
}

// accessKey makes sure the user has a key whose secret is stored. It lists the keys
// again first, because a connection dropped during an earlier CreateAccessKey may have
// created a key after all; such a key (one this tool made but never stored) is deleted.
func (r *run) accessKey(ctx context.Context, st plan.Step) error {
	stored, err := r.Files.StoredKeyID()
	if err != nil {
		return fmt.Errorf("reading %s: %w", r.Files.CredentialsFile, err)
	}
	var keys []plan.Key
	r.mu.Lock()
	fresh := r.userCreated
	r.mu.Unlock()
	if !fresh {
		if err := r.call(st.ID, "iam:ListAccessKeys", func() (err error) {
			keys, err = plan.ListKeys(ctx, r.IAM, r.s.UserName)
			return err
		}); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if k.ID == stored && k.Status != "Active" {
			// Someone deactivated the tool's own key. It stays as they left it, but it is
			// still the tool's: remember it as retired, so it is not mistaken for a
			// stranger's key, and rotate-key --delete-old or destroy can remove it.
			if err := r.Store.Update(func(s *settings.Settings) {
				s.RetiredKeys = append(s.RetiredKeys, settings.RetiredKey{Account: r.s.Account, User: r.s.UserName, KeyID: k.ID, Retired: r.Clock.Now()})
			}); err != nil {
				return err
			}
		}
		if k.ID == stored && k.Status == "Active" {
			if r.StoredKeyBad == "" {
				return nil // a concurrent run stored a working key meanwhile
			}
			// Ours, and its stored secret is wrong: the key is useless, replace it.
			if err := r.deleteKey(ctx, st.ID, k.ID, "its stored secret does not work ("+r.StoredKeyBad+")"); err != nil {
				return err
			}
			keys = slices.DeleteFunc(keys, func(x plan.Key) bool { return x.ID == k.ID })
			break
		}
	}
	current, err := r.Store.Load()
	if err != nil {
		return err
	}
	local := plan.Local{StoredKeyID: stored, KeyIntents: intents(current, r.s.Account, r.s.UserName)}
	for _, k := range plan.Orphans(keys, local) {
		if err := r.deleteKey(ctx, st.ID, k.ID, "created by an interrupted iamwizard run, its secret was never stored"); err != nil {
			return err
		}
		keys = slices.DeleteFunc(keys, func(x plan.Key) bool { return x.ID == k.ID })
	}
	if len(keys) >= plan.MaxKeys {
		i := slices.IndexFunc(keys, func(k plan.Key) bool { return k.ID == r.ReplaceKey })
		if i < 0 {
			var list []string
			for _, k := range keys {
				list = append(list, fmt.Sprintf("%s (%s, created %s)", k.ID, k.Status, plan.Created(k.Created)))
			}
			return &awsx.FixError{
				Summary: fmt.Sprintf("user %s already has %d access keys, IAM's limit: %s", r.s.UserName, len(keys), strings.Join(list, "; ")),
				Fix:     "choose the key to delete and re-run with --replace-key KEY_ID",
			}
		}
		if err := r.deleteKey(ctx, st.ID, keys[i].ID, "chosen with --replace-key"); err != nil {
			return err
		}
	}

	// Record the intent before creating, so a run that dies before storing the secret
	// leaves a trace the next run can clean up.
	started := r.Clock.Now()
	if err := r.Store.Update(func(s *settings.Settings) {
		s.KeyIntents = append(s.KeyIntents, settings.KeyIntent{Account: r.s.Account, User: r.s.UserName, Started: started})
	}); err != nil {
		return err
	}
	var out *iam.CreateAccessKeyOutput
	if err := r.call(st.ID, "iam:CreateAccessKey", func() (err error) {
		out, err = r.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &r.s.UserName})
		return err
	}); err != nil {
		return awsx.Explain("iam:CreateAccessKey", err)
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	section := r.Files.CredentialsSection(id, aws.ToString(out.AccessKey.SecretAccessKey))
	res, werr := creds.Apply(r.Files.CredentialsFile, []creds.Section{section}, creds.Options{Backup: true, Now: r.Clock.Now})
	if werr != nil {
		// The secret exists only in memory now: delete the key rather than leave one nobody can use.
		if _, derr := r.IAM.DeleteAccessKey(context.WithoutCancel(ctx), &iam.DeleteAccessKeyInput{UserName: &r.s.UserName, AccessKeyId: &id}); derr == nil {
			r.clearIntents()
		}
		return fmt.Errorf("storing the new key in %s failed, so the key %s was deleted again: %w", r.Files.CredentialsFile, id, werr)
	}
	r.clearIntents()
	if err := r.Store.Update(func(s *settings.Settings) { s.MarkSection(r.Files.CredentialsFile, r.Files.AppProfile, r.Clock.Now()) }); err != nil {
		return err
	}
	r.mu.Lock()
	r.res.NewKeyID = id
	if res.BackupPath != "" {
		r.res.BackupPaths = append(r.res.BackupPaths, res.BackupPath)
	}
	r.mu.Unlock()
	if res.BackupPath != "" {
		r.emit(event.Event{Step: st.ID, Kind: event.Warn,
			Message: fmt.Sprintf("profile [%s] in %s held another key; the previous file is kept as %s", r.Files.AppProfile, r.Files.CredentialsFile, res.BackupPath)})
	}
	r.emit(event.Event{Step: st.ID, Kind: event.Call, Message: fmt.Sprintf("stored key %s as profile [%s] in %s (secret not shown)", id, r.Files.AppProfile, r.Files.CredentialsFile)})
	return nil
}

func (r *run) clearIntents() {
	_ = r.Store.Update(func(s *settings.Settings) {
		s.KeyIntents = slices.DeleteFunc(s.KeyIntents, func(k settings.KeyIntent) bool {
			return k.Account == r.s.Account && k.User == r.s.UserName
		})
	})
}

func (r *run) deleteKey(ctx context.Context, step, id, why string) error {
	r.emit(event.Event{Step: step, Kind: event.Call, Operation: "iam:DeleteAccessKey", Message: fmt.Sprintf("deleting key %s: %s", id, why)})
	_, err := r.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &r.s.UserName, AccessKeyId: &id})
	if err != nil && !awsx.IsNotFound(err) {
		return awsx.Explain("iam:DeleteAccessKey", err)
	}
	return nil
}
