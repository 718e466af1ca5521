package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamwizard/iamwizard/internal/apply"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/event"
	"github.com/iamwizard/iamwizard/internal/plan"
	"github.com/iamwizard/iamwizard/internal/policydoc"
	"github.com/iamwizard/iamwizard/internal/rotate"
	"github.com/iamwizard/iamwizard/internal/teardown"
	"github.com/iamwizard/iamwizard/internal/verify"
)

// view is how a command speaks: every command talks to a view, and the text and
// JSON views decide how it looks, so no command branches on --output.
type view interface {
	preflight(*engine.Preflight)
	plan(plan.Plan)
	event(event.Event)
	applied(apply.Result)
	report(verify.Report)
	documents(policydoc.Documents)
	note(string)
	rotated(rotate.Result)
	inventory([]teardown.Item)
	destroyed([]string)
	fail(error)
	flush() error
}

func newView(output string, w io.Writer) view {
	if output == "json" {
		return &jsonView{w: w}
	}
	return &textView{w: w}
}

type textView struct{ w io.Writer }

func (v *textView) printf(format string, a ...any) { _, _ = fmt.Fprintf(v.w, format, a...) }

func (v *textView) preflight(p *engine.Preflight) {
	v.printf("Admin identity: %s (account %s, partition %s)\n", p.AdminARN, p.Account, p.Partition)
	if p.Endpoint != "" {
		v.printf("Endpoint:       %s (not AWS)\n", p.Endpoint)
	}
	v.printf("Bucket region:  %s\n", p.Region)
}

var stateMark = map[plan.State]string{
	plan.InSync:     "  ok      ",
	plan.Create:     "  create  ",
	plan.Update:     "  update  ",
	plan.NotManaged: "  LEFT    ",
	plan.Blocked:    "  BLOCKED ",
}

func (v *textView) plan(p plan.Plan) {
	for _, w := range p.Warnings {
		v.printf("warning: %s\n", w)
	}
	v.printf("\nPlan:\n")
	counts := map[plan.State]int{}
	for _, s := range p.Steps {
		counts[s.State]++
		line := stateMark[s.State] + s.Title
		if s.Reason != "" {
			line += " — " + s.Reason
		}
		v.printf("%s\n", line)
		if len(s.Operations) > 0 && s.State != plan.InSync && s.State != plan.NotManaged && s.State != plan.Blocked {
			v.printf("            calls: %s\n", strings.Join(s.Operations, ", "))
		}
		for _, d := range s.Details {
			if s.State != plan.InSync {
				v.printf("            %s\n", d)
			}
		}
		if s.Diff != "" {
			for _, l := range strings.Split(strings.TrimRight(s.Diff, "\n"), "\n") {
				if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "+ ") {
					v.printf("            %s\n", l)
				}
			}
		}
		if s.Fix != "" {
			v.printf("            fix: %s\n", s.Fix)
		}
	}
	v.printf("%d in sync, %d to create, %d to update, %d left for you to decide.\n",
		counts[plan.InSync], counts[plan.Create], counts[plan.Update], counts[plan.NotManaged]+counts[plan.Blocked])
}

var eventMark = map[event.Kind]string{
	event.Start: "->", event.Call: "  ", event.Wait: "..", event.Done: "ok", event.Skip: "--", event.Warn: "!!", event.Fail: "XX",
}

func (v *textView) event(e event.Event) {
	if e.Kind == event.Start {
		return // the plan already said what each step will do
	}
	line := fmt.Sprintf("%s %s", eventMark[e.Kind], e.Message)
	if e.Elapsed > 0 {
		line += fmt.Sprintf(" (%s)", e.Elapsed.Round(10*time.Millisecond))
	}
	v.printf("%s\n", line)
	if e.Fix != "" {
		v.printf("   fix: %s\n", e.Fix)
	}
}

func (v *textView) applied(r apply.Result) {
	if len(r.Changed) == 0 {
		v.printf("\nNothing to change: the setup is in sync.\n")
	} else {
		v.printf("\nChanged: %s\n", strings.Join(r.Changed, ", "))
	}
	for _, b := range r.BackupPaths {
		v.printf("Backup of a replaced file: %s\n", b)
	}
}

func (v *textView) report(r verify.Report) {
	failed := 0
	for _, c := range r.Checks {
		if !c.OK && !c.Skipped {
			failed++
		}
	}
	if failed == 0 {
		v.printf("\nAll checks passed.\n")
	} else {
		v.printf("\n%d check(s) failed.\n", failed)
	}
}

func (v *textView) documents(d policydoc.Documents) {
	v.printf("# User policy (attached to the user): may assume the role, nothing else\n%s\n", d.UserPolicy)
	v.printf("# Role policy (attached to the role): may put objects under the prefix, nothing else\n%s\n", d.RolePolicy)
	v.printf("# Trust policy of the role: only the user may assume it\n%s\n", d.Trust)
}

func (v *textView) note(s string) { v.printf("%s\n", s) }

func (v *textView) rotated(r rotate.Result) {
	if !r.Rotated {
		v.printf("\nDeleted the replaced key %s; the application's key %s is unchanged.\n", strings.Join(r.Deleted, ", "), r.NewKeyID)
		return
	}
	v.printf("\nThe application's key is now %s (stored; secret not shown).\n", r.NewKeyID)
	if r.OldKeyStatus == "deleted" {
		v.printf("The old key %s is deleted.\n", r.OldKeyID)
		return
	}
	v.printf("The old key %s is deactivated, not deleted: restart the application so it loads the new key,\nthen delete the old one with `iamwizard rotate-key --delete-old` (that deletes only it).\n", r.OldKeyID)
}

func (v *textView) inventory(items []teardown.Item) {
	v.printf("\nDestroy:\n")
	for _, l := range describeItems(items) {
		v.printf("  %s\n", l)
	}
	v.printf("  remove iamwizard's test objects and its profiles in the shared files (everything else in them is kept)\n")
	v.printf("  keep   the bucket and every other object in it\n")
}

func (v *textView) destroyed(removed []string) {
	if len(removed) == 0 {
		v.printf("\nNothing to remove: nothing of iamwizard's is left.\n")
		return
	}
	v.printf("\nRemoved %d item(s).\n", len(removed))
}

func (v *textView) fail(error) {} // main prints the error to stderr

func (v *textView) flush() error { return nil }

// jsonView collects everything and writes one JSON document at the end, so a script
// or monitoring job reads a single value.
type jsonView struct {
	w   io.Writer
	doc struct {
		Preflight *engine.Preflight    `json:"preflight,omitempty"`
		Plan      *plan.Plan           `json:"plan,omitempty"`
		Pending   *bool                `json:"pending,omitempty"`
		Events    []event.Event        `json:"events,omitempty"`
		Result    *apply.Result        `json:"result,omitempty"`
		Verify    *verify.Report       `json:"verify,omitempty"`
		Documents *policydoc.Documents `json:"documents,omitempty"`
		Notes     []string             `json:"notes,omitempty"`
		Rotation  *rotate.Result       `json:"rotation,omitempty"`
		Inventory []teardown.Item      `json:"inventory,omitempty"`
		Removed   []string             `json:"removed,omitempty"`
		Error     *jsonError           `json:"error,omitempty"`
	}
}

type jsonError struct {
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
}

func (v *jsonView) preflight(p *engine.Preflight) { v.doc.Preflight = p }
func (v *jsonView) plan(p plan.Plan) {
	v.doc.Plan = &p
	pending := p.Pending()
	v.doc.Pending = &pending
}
func (v *jsonView) event(e event.Event)             { v.doc.Events = append(v.doc.Events, e) }
func (v *jsonView) applied(r apply.Result)          { v.doc.Result = &r }
func (v *jsonView) report(r verify.Report)          { v.doc.Verify = &r }
func (v *jsonView) documents(d policydoc.Documents) { v.doc.Documents = &d }
func (v *jsonView) note(s string)                   { v.doc.Notes = append(v.doc.Notes, s) }
func (v *jsonView) rotated(r rotate.Result)         { v.doc.Rotation = &r }
func (v *jsonView) inventory(items []teardown.Item) { v.doc.Inventory = items }
func (v *jsonView) destroyed(removed []string) {
	v.doc.Removed = removed
	if v.doc.Removed == nil {
		v.doc.Removed = []string{}
	}
}
func (v *jsonView) fail(err error) {
	var fe *awsx.FixError
	if errors.As(err, &fe) {
		v.doc.Error = &jsonError{Summary: fe.Summary, Fix: fe.Fix}
		return
	}
	v.doc.Error = &jsonError{Summary: err.Error()}
}
func (v *jsonView) flush() error {
	enc := json.NewEncoder(v.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v.doc)
}
