package creds

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

const (
	helperPathEnv  = "CREDS_TEST_HELPER_PATH"
	helperIDEnv    = "CREDS_TEST_HELPER_ID"
	helperItersEnv = "CREDS_TEST_HELPER_ITERS"
)

// bump rewrites writer id's own section with counter i; each call is a real
// write, so any lost update shows up as a missing section or stale counter.
func bump(path, id string, i int) error {
	_, err := Apply(path, []Section{{Name: "writer " + id, Keys: []KV{
		{Key: "n", Value: strconv.Itoa(i)},
		{Key: "s3", Nested: []KV{{Key: "endpoint_url", Value: "http://h/" + strconv.Itoa(i)}}},
	}}}, Options{Backup: i%7 == 0})
	return err
}

// checkWriters asserts that every writer's section survived with its last counter.
func checkWriters(t *testing.T, path string, ids []string, iters int) {
	t.Helper()
	m, err := Read(path)
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	for _, id := range ids {
		sec := m["writer "+id]
		if sec["n"] != strconv.Itoa(iters) || sec["s3.endpoint_url"] != "http://h/"+strconv.Itoa(iters) {
			t.Errorf("writer %s: %v, want n=%d", id, sec, iters)
		}
	}
	if got := m["admin"]["aws_session_token"]; got == "" {
		t.Error("pre-existing admin profile lost")
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	path := tempPath(t)
	writeFile(t, path, realisticCreds, 0o600)
	const writers, iters = 8, 40
	var ids []string
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		id := fmt.Sprintf("g%d", w)
		ids = append(ids, id)
		wg.Go(func() {
			for i := 1; i <= iters; i++ {
				if err := bump(path, id, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkWriters(t, path, ids, iters)
}

// TestConcurrentProcesses re-executes the test binary so that separate
// processes (not just goroutines) race on the same file, with goroutines in
// this process joining in.
func TestConcurrentProcesses(t *testing.T) {
	path := tempPath(t)
	writeFile(t, path, realisticCreds, 0o600)
	const procs, iters = 3, 60
	var ids []string
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := range procs {
		id := fmt.Sprintf("p%d", p)
		ids = append(ids, id)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperPathEnv+"="+path, helperIDEnv+"="+id, helperItersEnv+"="+strconv.Itoa(iters))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	var wg sync.WaitGroup
	for g := range 2 {
		id := fmt.Sprintf("local%d", g)
		ids = append(ids, id)
		wg.Go(func() {
			for i := 1; i <= iters; i++ {
				if err := bump(path, id, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
	}
	checkWriters(t, path, ids, iters)
	for _, n := range listDir(t, filepath.Dir(path)) {
		if n != "credentials" && n != "credentials.lock" && !bytes.Contains([]byte(n), []byte(backupInfix)) {
			t.Errorf("stray file %s (temp file left behind?)", n)
		}
	}
}

// TestHelperProcess is the child side of TestConcurrentProcesses; it does
// nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("helper for TestConcurrentProcesses")
	}
	iters, _ := strconv.Atoi(os.Getenv(helperItersEnv))
	id := os.Getenv(helperIDEnv)
	for i := 1; i <= iters; i++ {
		if err := bump(path, id, i); err != nil {
			t.Fatal(err)
		}
	}
}
