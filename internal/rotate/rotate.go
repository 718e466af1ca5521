// Package rotate replaces the application's access key without ever leaving the server
// without a working one: the new key is created, stored and proven (who am I, assume
// the role) before the old one is deactivated; if anything fails, the old key stays
// active and stored.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamwizard/iamwizard/internal/appfiles"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/setup"
)

const step = "rotate-key"

// Deps are what a rotation works with.
type Deps struct {
	IAM   awsx.IAM
	Store settings.Store
	Files appfiles.Files
	Setup setup.Setup
	Clock awsx.Clock
	Sink  event.Sink
	// Prove checks that the stored key works as the application (who am I, assume the
	// role), waiting for IAM to propagate the new key; the engine passes verify's checks.
	Prove func(ctx context.Context) error
	// DeleteOld: the administrator confirms the application was restarted. With a key an
	// earlier rotation retired, only that key is deleted; otherwise the key this
	// rotation replaces is deleted at once instead of deactivated.
	DeleteOld bool
}

// Result says which keys changed.
type Result struct {
	NewKeyID     string   `json:"new_access_key_id"`
	OldKeyID     string   `json:"old_access_key_id"`
	OldKeyStatus string   `json:"old_key_status"` // "Inactive" or "deleted"
	Deleted      []string `json:"deleted,omitempty"`
	Rotated      bool     `json:"rotated"` // false when --delete-old only removed a retired key
}

// Run rotates the key.
func Run(ctx context.Context, d Deps) (Result, error) {
	if d.Sink == nil {
		d.Sink = event.Discard
	}
	if d.Clock == nil {
		d.Clock = awsx.RealClock{}
	}
	emit := func(kind event.Kind, op, msg string) {
		d.Sink(event.Event{Step: step, Kind: kind, Operation: op, Message: msg})
	}
	var res Result
	user, account := d.Setup.UserName, d.Setup.Account
	st, err := d.Store.Load()
	if err != nil {
		return res, err
	}
	stored, err := d.Files.StoredKeyID()
	if err != nil {
		return res, err
	}
	keys, err := plan.ListKeys(ctx, d.IAM, user)
	if err != nil {
		return res, err
	}
	var old *plan.Key
	for i := range keys {
		if keys[i].ID == stored && keys[i].Status == "Active" {
			old = &keys[i]
		}
	}
	if old == nil {
		return res, awsx.Fix(fmt.Sprintf("profile [%s] holds no active key of %s, so there is nothing to rotate", d.Files.AppProfile, user),
			"run `iamwizard apply`, which issues and stores a key")
	}
	res.OldKeyID = old.ID

	// A key an earlier rotation retired is deleted only once the administrator confirms
	// the application was restarted (--delete-old); then that is all this run does, so
	// the key the restarted application now holds stays.
	retired := st.Retired(account, user)
	isRetired := func(id string) bool {
		return slices.ContainsFunc(retired, func(r settings.RetiredKey) bool { return r.KeyID == id })
	}
	var leftovers []plan.Key
	for _, k := range keys {
		if k.ID == old.ID {
			continue
		}
		if !isRetired(k.ID) {
			return res, &awsx.FixError{
				Summary: fmt.Sprintf("%s has another key, %s (%s, created %s), that iamwizard did not create", user, k.ID, k.Status, plan.Created(k.Created)),
				Fix:     fmt.Sprintf("if nothing uses it, delete it with `iamwizard apply --delete-key %s`, then rotate", k.ID),
			}
		}
		leftovers = append(leftovers, k)
	}
	if len(leftovers) > 0 {
		if !d.DeleteOld {
			return res, &awsx.FixError{
				Summary: fmt.Sprintf("the replaced key %s is still there (%s): the user has no room for another key", leftovers[0].ID, leftovers[0].Status),
				Fix:     "once the application runs with the current key, delete it with `iamwizard rotate-key --delete-old`, then rotate again",
			}
		}
		for _, k := range leftovers {
			emit(event.Call, "iam:DeleteAccessKey", "deleting the replaced key "+k.ID+" (--delete-old)")
			if _, err := d.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &user, AccessKeyId: aws.String(k.ID)}); err != nil && !awsx.IsNotFound(err) {
				return res, awsx.Explain("iam:DeleteAccessKey", err)
			}
			res.Deleted = append(res.Deleted, k.ID)
			if err := d.Store.Update(func(s *settings.Settings) { s.RetiredKeys = dropRetired(s.RetiredKeys, k.ID) }); err != nil {
				return res, err
			}
		}
		res.NewKeyID, res.OldKeyID = old.ID, "" // the stored key stays
		return res, nil
	}

	// Keep the current section to put back if the new key does not work.
	sections, err := creds.Read(d.Files.CredentialsFile)
	if err != nil {
		return res, err
	}
	oldSection := d.Files.CredentialsSection(old.ID, sections[d.Files.AppProfile]["aws_secret_access_key"])

	started := d.Clock.Now()
	if err := d.Store.Update(func(s *settings.Settings) {
		s.KeyIntents = append(s.KeyIntents, settings.KeyIntent{Account: account, User: user, Started: started})
	}); err != nil {
		return res, err
	}
	clearIntent := func() {
		_ = d.Store.Update(func(s *settings.Settings) {
			s.KeyIntents = slices.DeleteFunc(s.KeyIntents, func(k settings.KeyIntent) bool { return k.Account == account && k.User == user })
		})
	}
	emit(event.Call, "iam:CreateAccessKey", "creating the new key")
	out, err := d.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &user})
	if err != nil {
		return res, awsx.Explain("iam:CreateAccessKey", err)
	}
	newID := aws.ToString(out.AccessKey.AccessKeyId)
	undo := func(cause error) error {
		// Put the old key back first: the server must always hold a working key.
		_, rerr := creds.Apply(d.Files.CredentialsFile, []creds.Section{oldSection}, creds.Options{})
		_, derr := d.IAM.DeleteAccessKey(context.WithoutCancel(ctx), &iam.DeleteAccessKeyInput{UserName: &user, AccessKeyId: &newID})
		if derr == nil {
			clearIntent()
		}
		msg := fmt.Sprintf("the rotation was undone: %s is still the active, stored key", old.ID)
		if rerr != nil {
			msg = fmt.Sprintf("the old key %s is still active, but putting it back into %s failed: %v", old.ID, d.Files.CredentialsFile, rerr)
		}
		return &awsx.FixError{Summary: msg + "; the new key failed: " + cause.Error(), Fix: "fix the cause above and run `iamwizard rotate-key` again", Err: errors.Join(cause, rerr, derr)}
	}
	if _, err := creds.Apply(d.Files.CredentialsFile, []creds.Section{d.Files.CredentialsSection(newID, aws.ToString(out.AccessKey.SecretAccessKey))},
		creds.Options{}); err != nil {
		return res, undo(fmt.Errorf("storing it: %w", err))
	}
	clearIntent()
	emit(event.Call, "", fmt.Sprintf("stored the new key %s as profile [%s] (secret not shown); proving it works", newID, d.Files.AppProfile))
	if err := d.Prove(ctx); err != nil {
		return res, undo(err)
	}
	res.NewKeyID, res.Rotated = newID, true

	emit(event.Call, "iam:UpdateAccessKey", "deactivating the old key "+old.ID)
	if _, err := d.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: &user, AccessKeyId: &old.ID, Status: types.StatusTypeInactive}); err != nil {
		return res, awsx.Explain("iam:UpdateAccessKey", err)
	}
	res.OldKeyStatus = "Inactive"
	if d.DeleteOld {
		emit(event.Call, "iam:DeleteAccessKey", "deleting the old key "+old.ID+" (--delete-old)")
		if _, err := d.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &user, AccessKeyId: &old.ID}); err != nil && !awsx.IsNotFound(err) {
			return res, awsx.Explain("iam:DeleteAccessKey", err)
		}
		res.OldKeyStatus = "deleted"
		res.Deleted = append(res.Deleted, old.ID)
		return res, nil
	}
	return res, d.Store.Update(func(s *settings.Settings) {
		s.RetiredKeys = append(s.RetiredKeys, settings.RetiredKey{Account: account, User: user, KeyID: old.ID, Retired: d.Clock.Now()})
	})
}

func dropRetired(keys []settings.RetiredKey, id string) []settings.RetiredKey {
	return slices.DeleteFunc(keys, func(k settings.RetiredKey) bool { return k.KeyID == id })
}
