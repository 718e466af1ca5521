package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const modulePath = "github.com/iamwizard/iamwizard"

// repoRoot finds the module's root from the working directory upwards.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark inside the iamwizard repository (no go.mod of " + modulePath + " above the working directory)")
		}
		dir = parent
	}
}

func goBuild(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/iamwizard")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building iamwizard: %v\n%s", err, b)
	}
	return nil
}

// emulator is the SeaweedFS instance the benchmark runs against.
type emulator struct {
	root     string
	dir      string // state directory; "" when the emulator was not started here
	portBase int
	Endpoint string
	Key      string
	Secret   string
	owned    bool // started (and so stopped) by this benchmark
}

func (e *emulator) script(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(e.root, "scripts", "emulator.sh"), args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "IAMWIZARD_EMU_PORT_BASE="+strconv.Itoa(e.portBase))
	return cmd
}

// startEmulator starts the benchmark's own emulator, or adopts the one named by -endpoint.
func startEmulator(ctx context.Context, root string, o options, work string, log io.Writer) (*emulator, error) {
	e := &emulator{root: root, portBase: o.portBase}
	env, err := e.script(ctx, "env").Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/emulator.sh env: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(env))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "AWS_ACCESS_KEY_ID":
			e.Key = v
		case "AWS_SECRET_ACCESS_KEY":
			e.Secret = v
		case "AWS_ENDPOINT_URL":
			e.Endpoint = v
		}
	}
	if o.endpoint != "" {
		if o.restart {
			return nil, errors.New("-restart needs the benchmark's own emulator: leave out -endpoint")
		}
		e.Endpoint = strings.TrimRight(o.endpoint, "/")
		return e, nil
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", o.portBase), time.Second); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("port %d is in use (another emulator?): choose another -port-base; the benchmark never shares an emulator", o.portBase)
	}
	e.dir = o.emuDir
	if e.dir == "" {
		e.dir = filepath.Join(work, "emulator")
	}
	if err := e.start(ctx, log); err != nil {
		return nil, err
	}
	e.owned = true
	return e, nil
}

func (e *emulator) start(ctx context.Context, log io.Writer) error {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	cmd := e.script(ctx, "start", e.dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil {
		return fmt.Errorf("starting the emulator (port base %d): %v\n%s", e.portBase, err, stderr.String())
	}
	logf(log, "bench: emulator ready at %s in %s\n", e.Endpoint, time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// restart stops the emulator, empties its state and starts it again.
func (e *emulator) restart(ctx context.Context, log io.Writer) error {
	if !e.owned {
		return errors.New("cannot restart an emulator the benchmark did not start")
	}
	if err := e.script(ctx, "stop", e.dir).Run(); err != nil {
		return fmt.Errorf("stopping the emulator: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(e.dir, "data")); err != nil {
		return err
	}
	return e.start(ctx, log)
}

// stop stops an emulator this benchmark started, by the PID its start recorded.
func (e *emulator) stop(log io.Writer) {
	if !e.owned {
		return
	}
	if err := e.script(context.Background(), "stop", e.dir).Run(); err != nil {
		logf(log, "bench: stopping the emulator: %v\n", err)
	}
}

// version is the emulator's own version line.
func (e *emulator) version(ctx context.Context) string {
	path, err := e.script(ctx, "path").Output()
	if err != nil {
		return "unknown"
	}
	out, err := exec.CommandContext(ctx, strings.TrimSpace(string(path)), "version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return "SeaweedFS `weed mini` (" + strings.Join(strings.Fields(line), " ") + ")"
}

// childEnv is the environment of a benchmarked process: the harness's own without any
// AWS or iamwizard setting, plus an isolated home and the given variables.
func childEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "IAMWIZARD_") ||
			k == "HOME" || k == "XDG_CONFIG_HOME" || k == "XDG_CACHE_HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"IAMWIZARD_SETTINGS="+filepath.Join(home, ".config", "iamwizard", "settings.json"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, ".aws", "credentials"),
		"AWS_CONFIG_FILE="+filepath.Join(home, ".aws", "config"),
		"AWS_REGION=us-east-1",
	)
	return append(env, extra...)
}
