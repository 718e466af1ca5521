// Package tui is iamwizard's interactive wizard: a full-screen bubbletea program on a
// terminal, or plain line prompts in accessible mode. Both drive the same engine as
// the plain commands (preflight, plan, apply, verify) and never call AWS themselves.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/engine"
)

// Command returns the wizard as the root command's action (and `iamwizard wizard`'s):
// the full-screen wizard on a terminal, line prompts with --accessible or
// ACCESSIBLE=1, and a pointer to the scriptable commands otherwise.
func Command(stdio cli.IO) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		cfg, ok := cli.WizardConfig(cmd)
		if !ok {
			return errors.New("the wizard's flags were not resolved (wire it through cli.NewRoot)")
		}
		accessible, _ := cmd.Flags().GetBool(cli.AccessibleFlag)
		if envTrue(os.Getenv("ACCESSIBLE")) {
			accessible = true
		}
		ctx := cmd.Context()
		switch {
		case accessible:
			return RunAccessible(ctx, cfg, stdio.In, stdio.Out, stdio.IsTerminal)
		case !stdio.IsTerminal:
			return &cli.ExitError{Code: cli.ExitUsage, Err: awsx.Fix(
				"the wizard needs a terminal, and there is none",
				"run `iamwizard apply --yes --bucket NAME` to set up without questions, or `iamwizard --accessible` for plain line prompts (a script can answer them on stdin)")}
		}
		return RunTUI(ctx, cfg, stdio.In, stdio.Out)
	}
}

// envTrue reads a boolean environment variable the way people write them.
func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// RunTUI runs the full-screen wizard on a terminal until the administrator leaves,
// and returns how it ended (nil for a verified setup or leaving before any change).
func RunTUI(ctx context.Context, cfg engine.Config, in io.Reader, out io.Writer) error {
	honourNoColor()
	m := New(ctx, cfg)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	if _, err := p.Run(); err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return &cli.ExitError{Code: cli.ExitAborted, Err: errInterrupted}
		}
		return err
	}
	return m.Err()
}
