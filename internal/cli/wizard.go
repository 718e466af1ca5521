package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/iamwizard/iamwizard/internal/engine"
)

// AccessibleFlag names the wizard's flag for plain line prompts instead of the full screen.
const AccessibleFlag = "accessible"

// wizardConfigKey is where the wizard's resolved configuration travels in the context.
type wizardConfigKey struct{}

// wizardEntry gives cmd the setup flags and --accessible, and makes it resolve them
// over the remembered settings (as the plain commands do) before running the wizard,
// which reads the result with WizardConfig.
func wizardEntry(cmd *cobra.Command, wizard func(*cobra.Command, []string) error) {
	o := &options{}
	o.register(cmd.Flags())
	_ = cmd.Flags().MarkHidden("output") // the wizard has no JSON view
	cmd.Flags().Bool(AccessibleFlag, false, "plain line prompts, one after another, for screen readers and scripts (also ACCESSIBLE=1)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := o.resolve(cmd)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		cmd.SetContext(context.WithValue(cmd.Context(), wizardConfigKey{}, cfg))
		return wizard(cmd, args)
	}
}

// wizardCmd is `iamwizard wizard`, the same as running iamwizard with no subcommand.
func wizardCmd(wizard func(*cobra.Command, []string) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wizard",
		Short: "Set up or repair interactively (the default with no subcommand on a terminal)",
		Args:  cobra.NoArgs,
	}
	wizardEntry(cmd, wizard)
	return cmd
}

// WizardConfig returns the configuration the wizard's flags resolved to, merged over
// the remembered settings; ok is false outside a command built by NewRoot.
func WizardConfig(cmd *cobra.Command) (cfg engine.Config, ok bool) {
	cfg, ok = cmd.Context().Value(wizardConfigKey{}).(engine.Config)
	return cfg, ok
}
