package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/settings"
)

// question is one line prompt of accessible mode, bound to the choice it sets.
type question struct {
	key, label string
	optional   bool
	value      *string
}

// questions are the choices in the order asked, with the same validators as the form.
func questions(c *settings.Choices, maxSession *string) []question {
	return []question{
		{"profile", "Admin profile (empty: the SDK's default chain)", true, &c.Profile},
		{"region", "Region for the STS and S3 calls (empty: the profile's)", true, &c.Region},
		{"bucket", "Existing bucket the application writes to", false, &c.Bucket},
		{"key-prefix", "Key prefix, a folder ending in / (none: the whole bucket)", true, &c.KeyPrefix},
		{"user", "IAM user name", false, &c.UserName},
		{"role", "IAM role name", false, &c.RoleName},
		{"user-policy", "User's policy name", false, &c.UserPolicyName},
		{"role-policy", "Role's policy name", false, &c.RolePolicyName},
		{"max-session", "Role's maximum session in seconds", false, maxSession},
		{"app-profile", "Profile holding the key, in the credentials file", false, &c.AppProfile},
		{"role-profile", "Profile the application uses, in the config file", false, &c.RoleProfile},
		{"credentials", "Credentials file", false, &c.CredentialsFile},
		{"config", "Config file", false, &c.ConfigFile},
		{"app-config", "Application's INI file (none: not written)", true, &c.AppConfig},
	}
}

// RunAccessible is the wizard as plain line prompts, one after another, that a screen
// reader or a script on stdin can answer all the way through, with or without a
// terminal. Answers are validated as in the form; end of input stops with an error
// and never accepts the remaining defaults. terminal allows showing the secret.
func RunAccessible(ctx context.Context, cfg engine.Config, in io.Reader, out io.Writer, terminal bool) error {
	p := newPrompter(in, out)
	p.printf("iamwizard, accessible mode.\n")
	p.printf("This sets up an IAM user whose only permission is to assume one role, and a role that may only put objects into one bucket. The user's key is stored in the credentials file on this server, and a role profile lets the application trade it for short-lived role credentials.\n")
	p.printf("Each question shows its current answer in brackets: press Enter to keep it, type a new one, or type %s to leave an optional answer empty. Nothing is written until you confirm the plan.\n\n", clearAnswer)

	if err := askChoices(p, &cfg); err != nil {
		return err
	}
	e, pl, err := decidePlan(ctx, p, &cfg)
	if err != nil {
		return err
	}
	if pl.Pending() {
		ok, err := p.confirm("Apply these changes?")
		if err != nil {
			return err
		}
		if !ok {
			return &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("nothing was changed")}
		}
		p.printf("\nApplying (Ctrl-C stops between calls; re-running resumes):\n")
		res, err := e.Apply(ctx, pl, event.Serialize(func(ev event.Event) { writeEvent(out, ev) }))
		if err != nil {
			if ctx.Err() != nil {
				return &cli.ExitError{Code: cli.ExitAborted, Err: errInterrupted}
			}
			return err
		}
		if len(res.Changed) > 0 {
			p.printf("Changed: %s\n", strings.Join(res.Changed, ", "))
		}
		for _, b := range res.BackupPaths {
			p.printf("Backup of a replaced file: %s\n", b)
		}
	} else {
		p.printf("\nEverything is in sync: nothing to repair.\n")
	}
	if err := tellKey(p, e, terminal); err != nil {
		return err
	}
	p.printf("\nChecking as the application would (IAM can take a minute to make a new key usable):\n")
	report, err := e.Verify(ctx, event.Serialize(func(ev event.Event) { writeEvent(out, ev) }))
	if err != nil {
		return err
	}
	writeReport(out, report)
	writeSummary(out, e)
	if ctx.Err() != nil {
		return &cli.ExitError{Code: cli.ExitAborted, Err: errInterrupted}
	}
	if !report.OK() {
		return &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("the setup was applied, but a check failed (see above)")}
	}
	return nil
}

// askChoices asks every question, then checks the set as a whole as the engine will;
// when a rule across answers fails, it says why and asks again with the answers so far
// as the defaults.
func askChoices(p *prompter, cfg *engine.Config) error {
	c := engine.WithDefaults(cfg.Choices)
	for {
		maxSession := strconv.Itoa(int(c.MaxSessionDuration))
		for _, q := range questions(&c, &maxSession) {
			answer, err := p.ask(q.label, *q.value, q.optional, validators[q.key])
			if err != nil {
				return err
			}
			*q.value = answer
		}
		n, _ := strconv.Atoi(maxSession) // validated above
		c.MaxSessionDuration = int32(min(max(n, 0), 1<<30))
		if err := engine.Validate(c); err != nil {
			p.printf("Those answers do not work together: %v\nPlease answer again; your answers are now the defaults.\n\n", err)
			continue
		}
		cfg.Choices = c
		return nil
	}
}

// decidePlan plans, and asks the decisions the plan needs (adopting entities, which
// key to delete) before planning again; it returns a plan apply can carry out.
func decidePlan(ctx context.Context, p *prompter, cfg *engine.Config) (*engine.Engine, plan.Plan, error) {
	for {
		p.printf("\nChecking the admin identity, the bucket and what already exists (read-only)...\n")
		e, err := engine.New(ctx, *cfg)
		if err != nil {
			return nil, plan.Plan{}, err
		}
		pre, err := e.Preflight(ctx)
		if err != nil {
			return nil, plan.Plan{}, err
		}
		pl, err := e.Plan(ctx)
		if err != nil {
			return nil, plan.Plan{}, err
		}
		writePlan(p.w, pre, pl)
		if len(stuck(pl)) == 0 {
			return e, pl, nil
		}
		switch {
		case len(notManaged(pl)) > 0 && !cfg.Adopt:
			ok, err := p.confirm("Some entities exist and were not created by iamwizard (see above). Adopt them? iamwizard then changes them to match the plan.")
			if err != nil {
				return nil, plan.Plan{}, err
			}
			if !ok {
				return nil, plan.Plan{}, &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("nothing was changed: choose other names, or adopt them")}
			}
			cfg.Adopt = true
		case len(keyChoices(pl)) > 0:
			choice, err := chooseKey(p, keyChoices(pl))
			if err != nil {
				return nil, plan.Plan{}, err
			}
			cfg.ReplaceKey = choice
		default:
			return nil, plan.Plan{}, &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("nothing was changed: see the fixes in the plan above")}
		}
	}
}

// chooseKey asks which access key to delete at IAM's limit; an empty answer stops.
func chooseKey(p *prompter, choices []string) (string, error) {
	p.printf("\nThe user already has 2 access keys, IAM's limit. To store a new key, one must be deleted first; make sure nothing still uses it.\n")
	for i, c := range choices {
		p.printf("  %d: %s\n", i+1, c)
	}
	answer, err := p.ask("Number of the key to delete (none: stop here)", "", true, func(s string) error {
		if s == "" {
			return nil
		}
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > len(choices) {
			return fmt.Errorf("%q: answer a number from 1 to %d, or nothing to stop", s, len(choices))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if answer == "" {
		return "", &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("stopped at the access key limit: nothing was changed")}
	}
	n, _ := strconv.Atoi(answer)
	return keyID(choices[n-1]), nil
}

// tellKey says where the key is stored; on a terminal it offers to show the secret
// once, never into a pipe or a file.
func tellKey(p *prompter, e *engine.Engine, terminal bool) error {
	f := e.Files()
	id, err := f.StoredKeyID()
	if err != nil || id == "" {
		p.printf("\nNo access key is stored in profile [%s] of %s.\n", f.AppProfile, f.CredentialsFile)
		return nil
	}
	p.printf("\nThe access key %s is stored in %s, profile [%s]. Its secret is not shown.\n", id, f.CredentialsFile, f.AppProfile)
	if !terminal {
		return nil
	}
	show, err := p.confirm("Show the secret once, on this terminal, to set up another server?")
	if err != nil || !show {
		return err
	}
	secret, err := readSecret(f)
	if err != nil {
		return err
	}
	p.printf("Secret access key: %s\n", secret)
	return nil
}
