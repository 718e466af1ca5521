package tui

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// The plain-text views of accessible mode: words instead of symbols and colour, one
// statement per line, so a screen reader reads them in order.

// writePlan prints every step with its state, reason, calls, details, diff and fix.
func writePlan(w io.Writer, pre *engine.Preflight, p plan.Plan) {
	if pre != nil {
		printf(w, "Admin identity: %s, account %s.\n", pre.AdminARN, pre.Account)
		printf(w, "Bucket %s is in region %s.\n", p.Setup.Bucket, pre.Region)
		if pre.Endpoint != "" {
			printf(w, "Endpoint: %s (not AWS).\n", pre.Endpoint)
		}
	}
	for _, warning := range p.Warnings {
		printf(w, "Warning: %s\n", warning)
	}
	counts := map[plan.State]int{}
	for _, s := range p.Steps {
		counts[s.State]++
	}
	printf(w, "\nPlan: %d in sync, %d to create, %d to update, %d for you to decide.\n",
		counts[plan.InSync], counts[plan.Create], counts[plan.Update], counts[plan.NotManaged]+counts[plan.Blocked])
	for _, s := range p.Steps {
		printf(w, "%s: %s", strings.TrimSpace(stateLabel[s.State]), s.Title)
		if s.Reason != "" {
			printf(w, " (%s)", s.Reason)
		}
		printLine(w)
		if len(s.Operations) > 0 && s.State != plan.InSync && s.State != plan.NotManaged && s.State != plan.Blocked {
			printf(w, "    calls: %s\n", strings.Join(s.Operations, ", "))
		}
		if s.State != plan.InSync {
			for _, d := range s.Details {
				printf(w, "    %s\n", d)
			}
		}
		for _, l := range splitLines(s.Diff) {
			if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "+ ") {
				printf(w, "    %s\n", l)
			}
		}
		if s.Fix != "" {
			printf(w, "    fix: %s\n", s.Fix)
		}
	}
	printLine(w, "(`iamwizard policies` prints the full policy documents.)")
}

// eventWords name each kind of event for a listener.
var eventWords = map[event.Kind]string{
	event.Start: "started", event.Call: "calling", event.Wait: "waiting", event.Done: "done",
	event.Skip: "left for you", event.Warn: "warning", event.Fail: "FAILED",
}

// writeEvent prints one progress event as one line (with its fix on the next).
func writeEvent(w io.Writer, ev event.Event) {
	switch ev.Kind {
	case event.Call:
		printf(w, "  calling %s\n", ev.Operation)
		return
	case event.Wait:
		printf(w, "  waiting for IAM to propagate (%d s)\n", int(ev.Waited.Seconds()))
		return
	}
	line := fmt.Sprintf("%s: %s", eventWords[ev.Kind], ev.Message)
	if ev.Elapsed > 0 {
		line += fmt.Sprintf(" (%s)", ev.Elapsed.Round(10*time.Millisecond))
	}
	printLine(w, line)
	if ev.Fix != "" {
		printf(w, "    fix: %s\n", ev.Fix)
	}
}

// writeReport prints each check's result, with the fix under a failure.
func writeReport(w io.Writer, r verify.Report) {
	printLine(w, "\nVerification:")
	failed := 0
	for _, c := range r.Checks {
		word := "passed"
		switch {
		case c.Skipped:
			word = "skipped"
		case !c.OK:
			word, failed = "FAILED", failed+1
		case c.Warning:
			word = "passed with a warning"
		}
		printf(w, "%s: %s. %s\n", word, checkTitle(c.ID), c.Message)
		if c.Fix != "" && (!c.OK || c.Warning) {
			printf(w, "    fix: %s\n", c.Fix)
		}
	}
	if failed == 0 {
		printLine(w, "All checks passed.")
	} else {
		printf(w, "%d check(s) failed.\n", failed)
	}
}

// writeSummary prints the ARNs, the files and what to run next.
func writeSummary(w io.Writer, e *engine.Engine) {
	st, f := e.Setup(), e.Files()
	printLine(w, "\nSummary:")
	printf(w, "User: %s\nRole: %s\nUser policy: %s\nRole policy: %s\n", st.UserARN(), st.RoleARN(), st.UserPolicyARN(), st.RolePolicyARN())
	printf(w, "Credentials file: %s, profile [%s]\n", f.CredentialsFile, f.AppProfile)
	printf(w, "Config file: %s, role profile %s (section [profile %s])\n", f.ConfigFile, f.RoleProfile, f.RoleProfile)
	if f.AppConfig != "" {
		printf(w, "Application config: %s\n", f.AppConfig)
	}
	printLine(w, "Next: `iamwizard verify` checks the setup again at any time.")
	printf(w, "The application uses AWS_PROFILE=%s; the SDK assumes %s and renews the credentials by itself.\n", f.RoleProfile, st.RoleName)
}

// printf writes formatted text; a broken output shows up as the next prompt's end of input.
func printf(w io.Writer, format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }

// printLine writes its operands and a newline.
func printLine(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }
