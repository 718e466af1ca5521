// Package cli holds iamwizard's plain commands (plan, apply, verify, policies) and their
// text and JSON views. The commands parse flags into a configuration, drive the engine
// and hand what it reports to a view; they never call AWS themselves.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/creds"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1   // an error, a failed check, or a decision left to the administrator
	ExitPending = 2   // plan: changes are pending
	ExitUsage   = 64  // bad flags
	ExitAborted = 130 // interrupted (Ctrl-C)
)

// ExitError carries the exit code a command wants, with the error to print (if any).
type ExitError struct {
	Code int
	Err  error // nil: nothing more to print (the view has said it)
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// IO is where a command reads and writes; tests pass buffers.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// IsTerminal reports whether In and Out are a terminal (prompts and --show-secret need one).
	IsTerminal bool
}

// StdIO is the process's own standard streams.
func StdIO() IO {
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		IsTerminal: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))}
}

// NewRoot builds the command tree. wizard, when not nil, runs the interactive wizard
// (the TUI lives in its own package and is wired in by main).
func NewRoot(stdio IO, wizard func(cmd *cobra.Command, args []string) error) *cobra.Command {
	root := &cobra.Command{
		Use:   "iamwizard",
		Short: "Set up role-based S3 access for an application outside AWS, and keep it right",
		Long: `iamwizard creates an IAM user whose only permission is to assume one role, and a role
that may only put objects into one bucket (under a prefix). The user's access key is stored
in the shared credentials file on this server; a role profile lets any AWS SDK or CLI trade
it for short-lived role credentials by itself. Run it again at any time to verify or repair.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see --help)", err)}
	})
	root.AddCommand(planCmd(stdio), applyCmd(stdio), verifyCmd(stdio), policiesCmd(stdio), rotateKeyCmd(stdio), destroyCmd(stdio))
	root.AddCommand(uploadCmd(stdio), serveCmd(stdio))
	if wizard != nil {
		wizardEntry(root, wizard)
		root.AddCommand(wizardCmd(wizard))
	}
	return root
}

// Run executes the command line and returns the process exit code, printing errors
// with their fix to stderr.
func Run(ctx context.Context, root *cobra.Command, args []string, stdio IO) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitFailed
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		err = ee.Err
	} else if msg := err.Error(); strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") {
		code = ExitUsage // cobra's own argument errors are usage errors too
	}
	if ctx.Err() != nil {
		code = ExitAborted
		err = errors.New("interrupted: nothing is half-written; re-running continues where it stopped")
	}
	if err != nil {
		printError(stdio.Err, err)
	}
	return code
}

func printError(w io.Writer, err error) {
	var fe *awsx.FixError
	if errors.As(err, &fe) && errors.Is(err, fe) {
		_, _ = fmt.Fprintf(w, "error: %s\n", fe.Summary)
		if fe.Fix != "" {
			_, _ = fmt.Fprintf(w, "  fix: %s\n", fe.Fix)
		}
		return
	}
	_, _ = fmt.Fprintf(w, "error: %s\n", err)
}

// prepare resolves the flags, builds the engine and runs the preflight.
func prepare(cmd *cobra.Command, o *options, v view) (*engine.Engine, error) {
	cfg, err := o.resolve(cmd)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	e, err := engine.New(cmd.Context(), cfg)
	var invalid *engine.InvalidChoiceError
	if errors.As(err, &invalid) {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	if err != nil {
		return nil, err
	}
	pre, err := e.Preflight(cmd.Context())
	if pre != nil {
		v.preflight(pre)
	}
	if err != nil {
		// The engine is returned too: destroy goes on when only the bucket is gone.
		return e, err
	}
	return e, nil
}

// finish flushes the view; with an error the JSON view records it first.
func finish(v view, err error) error {
	if err != nil {
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Err != nil {
			v.fail(err)
		}
	}
	if ferr := v.flush(); ferr != nil && err == nil {
		return ferr
	}
	return err
}

// setupCommand builds a command that takes the setup flags and speaks through a view:
// run does the work, and its error decides the exit code.
func setupCommand(stdio IO, use, short string, run func(cmd *cobra.Command, o *options, v view) error) (*cobra.Command, *options) {
	o := &options{}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := newView(o.output, stdio.Out)
			return finish(v, run(cmd, o, v))
		},
	}
	o.register(cmd.Flags())
	return cmd, o
}

func planCmd(stdio IO) *cobra.Command {
	cmd, _ := setupCommand(stdio, "plan", "Show what apply would do (read-only); exit 0 in sync, 2 changes pending, 1 error", runPlan)
	return cmd
}

func runPlan(cmd *cobra.Command, o *options, v view) error {
	e, err := prepare(cmd, o, v)
	if err != nil {
		return err
	}
	p, err := e.Plan(cmd.Context())
	if err != nil {
		return err
	}
	v.plan(p)
	if p.Pending() {
		return &ExitError{Code: ExitPending}
	}
	return nil
}

func verifyCmd(stdio IO) *cobra.Command {
	cmd, _ := setupCommand(stdio, "verify", "Compare with the desired setup and check it live as the application; exit 0 when all holds", runVerify)
	return cmd
}

func runVerify(cmd *cobra.Command, o *options, v view) error {
	e, err := prepare(cmd, o, v)
	var gone *engine.BucketMissingError
	if errors.As(err, &gone) {
		// A vanished bucket is drift like any other: report it under its own ID.
		v.report(verify.Report{Checks: []verify.Check{{ID: "drift.bucket", Message: gone.Summary, Fix: gone.Fix}}})
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if err != nil {
		return err
	}
	p, err := e.Compare(cmd.Context())
	if err != nil {
		return err
	}
	v.plan(p)
	report, err := e.Verify(cmd.Context(), event.Serialize(v.event))
	if err != nil {
		return err
	}
	report.Checks = append(engine.DriftChecks(p), report.Checks...)
	v.report(report)
	if p.Pending() || !report.OK() {
		if p.Pending() {
			v.note("The setup differs from the plan above: run `iamwizard apply` to repair it.")
		}
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

func applyCmd(stdio IO) *cobra.Command {
	cmd, o := setupCommand(stdio, "apply", "Create or repair the setup, then verify it as the application",
		func(cmd *cobra.Command, o *options, v view) error { return runApply(cmd, o, v, stdio) })
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "apply without asking for confirmation (needed without a terminal)")
	cmd.Flags().BoolVar(&o.showSecret, "show-secret", false, "print a newly created secret access key to the terminal (never to a pipe or file)")
	return cmd
}

func runApply(cmd *cobra.Command, o *options, v view, stdio IO) error {
	if o.showSecret && (!stdio.IsTerminal || o.output == "json") {
		return &ExitError{Code: ExitUsage, Err: awsx.Fix("--show-secret prints only to a terminal, never into a pipe, a file or JSON",
			"run it in a terminal, or read the key from the credentials file")}
	}
	if !o.yes && !stdio.IsTerminal {
		return &ExitError{Code: ExitUsage, Err: awsx.Fix("apply changes IAM and there is no terminal to confirm it",
			"review with `iamwizard plan`, then run `iamwizard apply --yes`")}
	}
	e, err := prepare(cmd, o, v)
	if err != nil {
		return err
	}
	// The choices passed the checks and the preflight: remember them now, so that a
	// run stopped below for a decision can be repeated with just the deciding flag.
	if err := e.Remember(); err != nil {
		return err
	}
	ctx := cmd.Context()
	p, err := e.Plan(ctx)
	if err != nil {
		return err
	}
	v.plan(p)
	// Entities that are not ours, or a decision only the administrator can make, stop
	// the run before anything is written.
	var stuck []string
	for _, s := range p.Stuck() {
		if s.ID != plan.StepUnknownKeys {
			stuck = append(stuck, s.Title+": "+s.Reason)
		}
	}
	if len(stuck) > 0 {
		return awsx.Fix("nothing was changed: "+strings.Join(stuck, "; "), "see the plan above for what to do about each")
	}
	if p.Pending() && !o.yes {
		if !confirm(stdio, "Apply these changes?") {
			return &ExitError{Code: ExitFailed, Err: errors.New("nothing was changed")}
		}
	}
	res, err := e.Apply(ctx, p, event.Serialize(v.event))
	v.applied(res)
	if err != nil {
		return err
	}
	if o.showSecret && res.NewKeyID != "" {
		showSecret(stdio.Out, e, res.NewKeyID)
	}
	report, err := e.Verify(ctx, event.Serialize(v.event))
	if err != nil {
		return err
	}
	v.report(report)
	files := e.Files()
	v.note(fmt.Sprintf("\nThe application uses profile [%s] (AWS_PROFILE=%s with config %s and credentials %s);\nthe SDK assumes %s and renews the credentials by itself.",
		files.RoleProfile, files.RoleProfile, files.ConfigFile, files.CredentialsFile, e.Setup().RoleARN()))
	if len(res.NeedsAction) > 0 {
		return &ExitError{Code: ExitFailed, Err: awsx.Fix("some steps need your decision: "+strings.Join(res.NeedsAction, ", "), "see the fixes above")}
	}
	if !report.OK() {
		return &ExitError{Code: ExitFailed, Err: errors.New("the setup was applied, but a check failed (see above)")}
	}
	return nil
}

func confirm(stdio IO, question string) bool {
	_, _ = fmt.Fprintf(stdio.Out, "\n%s [y/N] ", question)
	line, _ := bufio.NewReader(stdio.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// showSecret prints the new secret once, on an explicit request, to a terminal.
func showSecret(w io.Writer, e *engine.Engine, keyID string) {
	files := e.Files()
	sections, err := creds.Read(files.CredentialsFile)
	if err != nil {
		return
	}
	secret := sections[files.AppProfile]["aws_secret_access_key"]
	_, _ = fmt.Fprintf(w, "\nNew access key %s, secret (shown once, as asked): %s\n", keyID, secret)
}

func policiesCmd(stdio IO) *cobra.Command {
	cmd, _ := setupCommand(stdio, "policies", "Print the policy documents iamwizard would write", func(cmd *cobra.Command, o *options, v view) error {
		e, err := prepare(cmd, o, v)
		if err != nil {
			return err
		}
		v.documents(e.Documents())
		return nil
	})
	return cmd
}
