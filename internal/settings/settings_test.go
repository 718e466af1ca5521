package settings

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUpdateWritesOnlyWhenSomethingChanged(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "iamwizard", "settings.json")}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.Update(func(s *Settings) { s.MarkManaged("user", "1", "u", now) }); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(st.Path)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm() != 0o600 {
		t.Fatalf("settings file mode %v, want 0600", before.Mode().Perm())
	}
	// Recording the same entity again changes nothing: the file is not rewritten.
	if err := st.Update(func(s *Settings) { s.MarkManaged("user", "1", "u", now.Add(time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(st.Path)
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("an update that changed nothing rewrote the file")
	}
	// A real change is written.
	if err := st.Update(func(s *Settings) { s.MarkManaged("role", "1", "r", now) }); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsManaged("user", "1", "U") || !got.IsManaged("role", "1", "r") {
		t.Fatalf("records: %+v", got.Managed)
	}
}
