// Command bench measures iamwizard against the classic setup done by hand, on a local
// emulator of its own (issue 7). It is a program to run, not a test:
//
//	scripts/bench.sh                 # or: go run ./bench
//	scripts/bench.sh -runs 9 -readme # also rewrite the results block of README.md
//
// In one run it starts SeaweedFS `weed mini` on its own ports (IAMWIZARD_EMU_PORT_BASE,
// 28333 by default, never the 8333 of the Quick start), puts the recording proxy of
// internal/awsproxy in front of it, builds iamwizard, and times, round after round:
//
//	a      the classic setup by hand: ten AWS CLI commands, one process each
//	b0     the floor: a minimal Go program making exactly those ten calls (aws-sdk-go-v2)
//	b0in   the same ten calls inside the harness (no process start), for reference
//	b      iamwizard apply --yes on a fresh setup (the same setup plus its checks)
//	c      iamwizard apply --yes again, on the setup b left in sync
//	d      iamwizard verify on that setup
//
// Every API call passes the proxy, which counts calls per service and operation. The
// scenarios that create a setup use fresh, unique names and a fresh bucket each round;
// -restart also restarts the emulator on an empty data directory before each of them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// options are the command-line flags.
type options struct {
	runs       int
	warmup     int
	portBase   int
	endpoint   string
	emuDir     string
	awsPath    string
	iamwizard  string
	restart    bool
	readme     bool
	readmeFile string
	trace      bool
	keep       bool
}

func main() {
	// The floor program (b0) is this same binary started again in child mode, so that
	// it is timed as a program of its own, process start included.
	if len(os.Args) > 1 && os.Args[1] == floorChildArg {
		os.Exit(floorChild())
	}
	var o options
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.IntVar(&o.runs, "runs", 7, "measured rounds (each scenario runs once per round; at least 5 for the README)")
	fs.IntVar(&o.warmup, "warmup", 1, "rounds run first and not counted (page cache, emulator warm-up)")
	fs.IntVar(&o.portBase, "port-base", 28333, "IAMWIZARD_EMU_PORT_BASE of the emulator this benchmark starts")
	fs.StringVar(&o.endpoint, "endpoint", "", "use this already running emulator instead of starting one (its admin identity as scripts/emulator.sh env prints it)")
	fs.StringVar(&o.emuDir, "emu-dir", "", "directory for the emulator's state (default: a temporary one, removed at the end)")
	fs.StringVar(&o.awsPath, "aws", "/usr/bin/aws", "the AWS CLI for scenario a (Debian's awscli; scripts/bench.sh installs it)")
	fs.StringVar(&o.iamwizard, "iamwizard", "", "a prebuilt iamwizard binary (default: build ./cmd/iamwizard)")
	fs.BoolVar(&o.restart, "restart", false, "restart the emulator on an empty data directory before every scenario that creates a setup (slow: ~10 s each)")
	fs.BoolVar(&o.readme, "readme", false, "write the results between the bench markers of -readme-file")
	fs.StringVar(&o.readmeFile, "readme-file", "README.md", "the file -readme rewrites, relative to the repository root")
	fs.BoolVar(&o.trace, "trace", false, "print every API call of the last round of each scenario, in arrival order")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (homes, logs) and print where it is")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	if o.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out, log io.Writer) error {
	loadAtStart := loadAverage()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.awsPath); err != nil {
		return fmt.Errorf("no AWS CLI at %s: run scripts/bench.sh (it installs Debian's awscli) or `apt-get install -y awscli`", o.awsPath)
	}
	work, err := os.MkdirTemp("", "iamwizard-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		logf(log, "bench: work directory %s (kept)\n", work)
	} else {
		defer func() { _ = os.RemoveAll(work) }()
	}

	bin := o.iamwizard
	if bin == "" {
		bin = filepath.Join(work, "iamwizard")
		logf(log, "bench: building iamwizard"+"\n")
		if err := goBuild(ctx, root, bin); err != nil {
			return err
		}
	}

	emu, err := startEmulator(ctx, root, o, work, log)
	if err != nil {
		return err
	}
	defer emu.stop(log)

	h, err := newHarness(ctx, o, root, work, bin, emu, log)
	if err != nil {
		return err
	}
	defer h.close()

	results, err := h.measure(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted")
		}
		return err
	}
	m := describeMachine(ctx, root, emu, o.awsPath, loadAtStart)
	rep := buildReport(results, m, o)
	if _, err := io.WriteString(out, rep.markdown()); err != nil {
		return err
	}
	if o.trace {
		_, _ = io.WriteString(out, traceText(results))
	}
	if o.readme {
		path := o.readmeFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeReadme(path, rep.markdown()); err != nil {
			logf(log, "bench: %v\n", err)
			logf(log, "bench: add the lines %s and %s to %s where the results belong, then run again with -readme (or paste the block above)\n", markerStart, markerEnd, path)
		} else {
			logf(log, "bench: wrote the results into %s\n", path)
		}
	}
	return nil
}

// logf writes a progress line for the person running the benchmark.
func logf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
