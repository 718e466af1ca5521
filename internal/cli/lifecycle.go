package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/teardown"
)

func rotateKeyCmd(stdio IO) *cobra.Command {
	var deleteOld bool
	cmd, _ := setupCommand(stdio, "rotate-key", "Replace the application's access key: create, store, prove, then deactivate the old one",
		func(cmd *cobra.Command, o *options, v view) error {
			e, err := prepare(cmd, o, v)
			if err != nil {
				return err
			}
			res, err := e.RotateKey(cmd.Context(), event.Serialize(v.event), deleteOld)
			if err != nil {
				return err
			}
			v.rotated(res)
			return nil
		})
	cmd.Long = `rotate-key creates a new access key, stores it in the credentials file, proves it works
(who am I, assume the role), and only then deactivates the old key. If anything fails, the
old key stays active and stored. A running application may still hold the old key in memory,
so the old key is deactivated, not deleted: restart the application, then run
rotate-key --delete-old, which deletes only that key. With no replaced key left,
--delete-old rotates and deletes the old key at once.`
	cmd.Flags().BoolVar(&deleteOld, "delete-old", false, "the application was restarted: delete the key a rotation replaced (only that), or, if none is left, rotate and delete the old key at once")
	return cmd
}

func destroyCmd(stdio IO) *cobra.Command {
	cmd, o := setupCommand(stdio, "destroy", "Remove what iamwizard created (never the bucket, other objects, or entities it did not create)",
		func(cmd *cobra.Command, o *options, v view) error { return runDestroy(cmd, o, v, stdio) })
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "remove without asking (needed without a terminal)")
	return cmd
}

func runDestroy(cmd *cobra.Command, o *options, v view, stdio IO) error {
	if !o.yes && !stdio.IsTerminal {
		return &ExitError{Code: ExitUsage, Err: awsx.Fix("destroy deletes IAM entities and there is no terminal to confirm it",
			"run `iamwizard destroy --yes`")}
	}
	e, err := prepare(cmd, o, v)
	var gone *engine.BucketMissingError
	if errors.As(err, &gone) {
		v.note("warning: " + gone.Summary + "; removing the rest")
	} else if err != nil {
		return err
	}
	items, observed, err := e.DestroyInventory(cmd.Context())
	if err != nil {
		return err
	}
	v.inventory(items)
	if !o.yes && !confirm(stdio, "Remove these?") {
		return &ExitError{Code: ExitFailed, Err: errors.New("nothing was removed")}
	}
	removed, err := e.Destroy(cmd.Context(), items, observed, event.Serialize(v.event))
	v.destroyed(removed)
	return err
}

func describeItems(items []teardown.Item) []string {
	var out []string
	for _, it := range items {
		if it.Remove {
			out = append(out, fmt.Sprintf("remove %s %s", it.Kind, it.Name))
		} else {
			out = append(out, fmt.Sprintf("keep   %s %s (%s)", it.Kind, it.Name, it.Reason))
		}
	}
	return out
}
