package creds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

const (
	fileMode = 0o600
	dirMode  = 0o700
	// maxFileSize bounds what is read into memory; real credential files are a few KiB.
	maxFileSize = 16 << 20
	// defaultLockTimeout is how long to wait for another iamwizard run to finish with the file.
	defaultLockTimeout = time.Minute
	backupInfix        = ".iamwizard-backup-"
)

// resolve follows symlinks on the final path element so the link's target is
// edited and the link itself survives; a dangling link resolves to its
// target, which is then created.
func resolve(path string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// readFile returns the file's bytes and info; a missing file is not an error.
func readFile(path string) (data []byte, info fs.FileInfo, exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	defer func() { _ = f.Close() }() // read-only
	info, err = f.Stat()
	if err != nil {
		return nil, nil, false, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, false, fmt.Errorf("%s is not a regular file", path)
	}
	data, err = io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, false, err
	}
	if len(data) > maxFileSize {
		return nil, nil, false, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return data, info, true, nil
}

// ensureDir creates dir and any missing parents with mode 0700, chmodding
// only the directories it created so umask cannot widen or narrow them;
// directories that already exist are left alone (Perm lets callers warn).
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := ensureDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ensureDir(dir) // created concurrently: theirs, not ours to chmod
		}
		return err
	}
	return os.Chmod(dir, dirMode)
}

// lock takes the exclusive lock PATH.lock guarding the read-modify-write of
// path. The lock file is left in place: deleting it would let a waiting
// process lock a file that a newcomer then recreates and locks too.
func lock(path string, timeout time.Duration) (*flock.Flock, error) {
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	l := flock.New(path+".lock", flock.SetPermissions(fileMode))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("lock %s: %v (another iamwizard may be running)", l.Path(), err)
	}
	return l, nil
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // a directory opened only to sync it
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// writeBackup copies data to a new sibling PATH.iamwizard-backup-STAMP with
// mode 0600, never overwriting an earlier backup.
func writeBackup(path string, data []byte, now time.Time) (string, error) {
	base := path + backupInfix + now.UTC().Format("20060102T150405Z")
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		err = f.Chmod(fileMode)
		if err == nil {
			_, err = f.Write(data)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(filepath.Dir(name))
		}
		if err != nil {
			_ = os.Remove(name) // a partial backup is worse than none
			return "", fmt.Errorf("backup %s: %w", path, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("backup %s: too many backups named %s*", path, base)
}
