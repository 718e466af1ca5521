//go:build !windows

package creds

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// writeAtomic replaces path with data, mode 0600, via a synced temp file in
// the same directory, keeping the old file's owner and group so a root run
// does not take the application's credentials away from it.
func writeAtomic(path string, data []byte, old fs.FileInfo) error {
	dir := filepath.Dir(path)
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(fileMode))
	if err != nil {
		return err
	}
	// Cleanup after a successful rename is a no-op; after a failure the error that
	// matters is the one returned below.
	defer func() { _ = pf.Cleanup() }()
	if old != nil {
		if err := keepOwner(pf.File, old); err != nil {
			return fmt.Errorf("keep owner of %s: %w", path, err)
		}
	}
	if _, err := pf.Write(data); err != nil {
		return err
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return err
	}
	return syncDir(dir)
}
