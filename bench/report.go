package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Markers around the results block in the README.
const (
	markerStart = "<!-- bench:start -->"
	markerEnd   = "<!-- bench:end -->"
)

// machine describes where the benchmark ran.
type machine struct {
	CPU      string
	CPUs     int
	MemGiB   float64
	OS       string
	Kernel   string
	Go       string
	Emulator string
	AWSCLI   string
	Tree     string // the iamwizard source measured
	Load     string // load averages when the measurement ended
	Date     time.Time
}

func describeMachine(ctx context.Context, root string, emu *emulator, awsPath, loadAtStart string) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC(), CPU: "unknown", OS: runtime.GOOS}
	if v := firstField("/proc/cpuinfo", "model name", ":"); v != "" {
		m.CPU = v
	}
	if v := firstField("/proc/meminfo", "MemTotal", ":"); v != "" {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.MemGiB = kb / (1 << 20)
		}
	}
	if v := firstField("/etc/os-release", "PRETTY_NAME", "="); v != "" {
		m.OS = strings.Trim(v, `"`)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Load = fmt.Sprintf("%s at the start, %s at the end", loadAtStart, loadAverage())
	m.Tree = sourceTree(ctx, root)
	m.Emulator = emu.version(ctx)
	if out, err := exec.CommandContext(ctx, awsPath, "--version").CombinedOutput(); err == nil {
		m.AWSCLI, _, _ = strings.Cut(strings.TrimSpace(string(out)), " Python/")
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load averages, "?" where unknown.
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	return "?"
}

// sourceTree names the commit measured, and whether the working tree had changes.
func sourceTree(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	tree := "commit " + strings.TrimSpace(string(out))
	cmd = exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no", "--", "cmd", "internal", "policies")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		tree += " plus uncommitted changes"
	}
	return tree
}

// firstField returns the value of the first line of path starting with key.
func firstField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// target is one goal of issue 7 and whether this run met it.
type target struct {
	Met    bool
	Goal   string
	Detail string
}

// report is everything the benchmark prints.
type report struct {
	res     results
	m       machine
	o       options
	sums    map[string]summary
	targets []target
}

func buildReport(res results, m machine, o options) report {
	r := report{res: res, m: m, o: o, sums: map[string]summary{}}
	for id, ss := range res {
		r.sums[id] = summarize(durations(ss, func(s sample) time.Duration { return s.Dur }))
	}
	r.targets = checkTargets(res, r.sums)
	return r
}

// checkTargets compares the medians and call counts with the targets of issue 7.
func checkTargets(res results, sums map[string]summary) []target {
	var ts []target
	a, b0, b := sums[scenA], sums[scenFloor], sums[scenB]
	if b0.N > 0 && b.N > 0 {
		ts = append(ts, target{Met: b.Median <= 2*b0.Median, Goal: "b within 2× the floor b0 (medians)",
			Detail: fmt.Sprintf("%s vs 2 × %s: %.2f×", ms(b.Median), ms(b0.Median), float64(b.Median)/float64(b0.Median))})
	}
	if a.N > 0 && b.N > 0 {
		ts = append(ts, target{Met: b.Median < a.Median, Goal: "b faster than a (medians)",
			Detail: fmt.Sprintf("%s vs %s: %.1f× faster", ms(b.Median), ms(a.Median), float64(a.Median)/float64(b.Median))})
	}
	if cs, bs := res[scenC], res[scenB]; len(cs) > 0 && len(bs) > 0 {
		w := rangeOf(cs, func(s sample) int { return s.IAMWrites })
		ts = append(ts, target{Met: w.Hi == 0, Goal: "c makes no IAM write", Detail: fmt.Sprintf("%s IAM writes", w)})
		cc, bc := rangeOf(cs, sample.total), rangeOf(bs, sample.total)
		ts = append(ts, target{Met: cc.Hi < bc.Lo, Goal: "c makes fewer calls than b", Detail: fmt.Sprintf("%s vs %s calls", cc, bc)})
	}
	return ts
}

// markdown is the results block: machine, timings, calls per kind, targets.
func (r report) markdown() string {
	var b strings.Builder
	m := r.m
	rounds := "rounds"
	if r.o.warmup == 1 {
		rounds = "round"
	}
	fmt.Fprintf(&b, "Measured on %s with `scripts/bench.sh -runs %d`: %d rounds, each scenario once per round (%d warm-up %s before, not counted",
		m.Date.Format("2006-01-02"), r.o.runs, r.o.runs, r.o.warmup, rounds)
	if r.o.restart {
		b.WriteString("; emulator restarted empty before every creating scenario")
	}
	b.WriteString(").\n\n")
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %.1f GiB RAM; %s, Linux %s; load average %s; %s; emulator %s, on loopback; %s; iamwizard at %s.\n\n",
		m.CPU, m.CPUs, m.MemGiB, m.OS, m.Kernel, m.Load, m.Go, m.Emulator, m.AWSCLI, m.Tree)

	b.WriteString("| | scenario | median | min | max | spread | API calls | IAM writes | answered ≥ 400 | first call at (median) | API busy (median) | max in flight |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, id := range scenarioOrder {
		ss := r.res[id]
		if len(ss) == 0 {
			continue
		}
		s := r.sums[id]
		busy := summarize(durations(ss, func(s sample) time.Duration { return s.APITime }))
		first := summarize(durations(ss, func(s sample) time.Duration { return s.FirstCall }))
		fmt.Fprintf(&b, "| %s | %s | **%s** | %s | %s | %.0f%% | %s | %s | %s | %s | %s | %s |\n",
			id, scenarioTitles[id], ms(s.Median), ms(s.Min), ms(s.Max), s.Spread(),
			rangeOf(ss, sample.total), rangeOf(ss, func(s sample) int { return s.IAMWrites }),
			rangeOf(ss, func(s sample) int { return s.Failed }), ms(first.Median), ms(busy.Median),
			rangeOf(ss, func(s sample) int { return s.MaxInFlight }))
	}

	cols := []string{}
	for _, id := range scenarioOrder {
		if id != scenFloorI && len(r.res[id]) > 0 {
			cols = append(cols, id)
		}
	}
	b.WriteString("\nAPI calls per kind and run, counted at the recording proxy (b0in makes the same calls as b0):\n\n")
	b.WriteString("| call |")
	for _, id := range cols {
		fmt.Fprintf(&b, " %s |", id)
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(cols)) + "\n")
	for _, k := range kinds(r.res) {
		fmt.Fprintf(&b, "| %s |", k)
		for _, id := range cols {
			rg := rangeOf(r.res[id], func(s sample) int { return s.Counts[k] })
			cell := rg.String()
			if rg.Hi == 0 {
				cell = "·"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	b.WriteString("| **total** |")
	for _, id := range cols {
		fmt.Fprintf(&b, " **%s** |", rangeOf(r.res[id], sample.total))
	}
	b.WriteString("\n\nTargets of issue 7:\n\n")
	for _, t := range r.targets {
		mark := "MISS"
		if t.Met {
			mark = "PASS"
		}
		fmt.Fprintf(&b, "- **%s** %s: %s\n", mark, t.Goal, t.Detail)
	}
	b.WriteString(`
Notes: a, b0 and b each create a new setup every round under fresh, unique names (user,
role, both policies) and a fresh bucket holding one object already (as the application's
bucket would; the emulator's first write into a new bucket allocates storage for up to a
second, which no scenario should be timed for), so each starts from fresh IAM state for
its entities. The emulator keeps running; after each round everything the round created
is deleted again (untimed, past the proxy), so its IAM state does not grow from round to
round (` + "`-restart`" + ` restarts it empty before every creating scenario instead).
c and d run on the setup b created in the same round.
Times are wall-clock times of the whole scenario, process starts included (a starts ten
processes, b0/b/c/d one). "First call at" is how long after the start the first call
reached the proxy (process start, configuration); "API busy" the time at least one call
was in flight; "max in flight" the most calls in flight at once; "answered ≥ 400" counts
expected answers such as NoSuchEntity while b observes and the denials verify checks for.
`)
	return b.String()
}

// replaceBlock puts block between the start and end markers of doc, keeping the
// markers; it reports false when either marker is missing or out of order.
func replaceBlock(doc, block string) (string, bool) {
	i := strings.Index(doc, markerStart)
	if i < 0 {
		return doc, false
	}
	rest := doc[i+len(markerStart):]
	j := strings.Index(rest, markerEnd)
	if j < 0 {
		return doc, false
	}
	return doc[:i+len(markerStart)] + "\n" + strings.TrimRight(block, "\n") + "\n" + rest[j:], true
}

// writeReadme rewrites the results block of the file at path.
func writeReadme(path, block string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	out, ok := replaceBlock(string(data), block)
	if !ok {
		return errors.New(path + " has no " + markerStart + " ... " + markerEnd + " block")
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(out), info.Mode().Perm())
}

// traceText lists the calls of the last round of each scenario in start order, with
// when each started after the scenario did and how long it took.
func traceText(res results) string {
	var b strings.Builder
	for _, id := range scenarioOrder {
		ss := res[id]
		if len(ss) == 0 {
			continue
		}
		s := ss[len(ss)-1]
		fmt.Fprintf(&b, "\n%s (%s), last round, %s:\n", id, scenarioTitles[id], ms(s.Dur))
		var last time.Time
		for _, sp := range s.Spans {
			if sp.End.After(last) {
				last = sp.End
			}
			fmt.Fprintf(&b, "  at %8s  took %8s  %3d  %s\n", ms(sp.Start.Sub(s.Start)), ms(sp.End.Sub(sp.Start)), sp.Status, sp.Label)
		}
		if len(s.Spans) > 0 {
			fmt.Fprintf(&b, "  first call started at %s, last ended at %s\n", ms(s.Spans[0].Start.Sub(s.Start)), ms(last.Sub(s.Start)))
		}
	}
	return b.String()
}
