//go:build unix

package creds

import (
	"os"
	"syscall"
	"testing"
)

// TestOwnerKept: a root run rewriting an application user's file must leave
// it owned by that user, or the application loses its credentials.
func TestOwnerKept(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	path := tempPath(t)
	writeFile(t, path, realisticCreds, 0o600)
	if err := os.Chown(path, 4321, 4322); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(path, []Section{appUser}, Options{}); err != nil {
		t.Fatal(err)
	}
	st := stat(t, path).Sys().(*syscall.Stat_t)
	if st.Uid != 4321 || st.Gid != 4322 {
		t.Errorf("owner %d:%d, want 4321:4322", st.Uid, st.Gid)
	}
}
