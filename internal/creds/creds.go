package creds

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Section is one INI section the tool owns, e.g. Name "application-user" in
// the credentials file, "profile application-role" or "services
// iamwizard-application-user" in the config file, "AWS" in the app config.
type Section struct {
	Name string
	Keys []KV
}

// KV is one key of an owned section; with Nested set it is written as
// "Key =" followed by indented "  sub = value" lines (Value must be empty),
// the AWS config form for per-service settings.
type KV struct {
	Key, Value string
	Nested     []KV
}

// Options tune how Apply and Remove write.
type Options struct {
	// Backup: when a section of the same name exists with different content
	// (or is removed), first copy the whole file to a sibling backup
	// (PATH.iamwizard-backup-YYYYMMDDTHHMMSSZ, mode 0600) and report its path.
	Backup bool
	// Now is the clock for backup names, for tests; nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for another process holding PATH.lock; zero means one minute.
	LockTimeout time.Duration
}

// Result says what Apply or Remove did to the file.
type Result struct {
	// Changed is true when the file's content was rewritten.
	Changed bool
	// BackupPath is the backup written before the change, or "".
	BackupPath string
	// Tightened is true when the rewritten file had group or other permission bits before.
	Tightened bool
}

// errUnsafeEdit marks a planned edit that failed its own verification: a
// splicer bug caught before writing, which the fuzz tests treat as fatal.
var errUnsafeEdit = errors.New("refusing to write an edit that failed verification")

// change is one read-modify-write: sections to make exact, names to remove.
type change struct {
	want []Section
	drop []string
}

// Apply makes the file contain exactly these sections with exactly these keys
// (keys of that section not listed are removed), keeping every other section,
// key and comment byte-for-byte. When the content is already so it does
// nothing at all (Changed=false, mode untouched: Perm lets callers warn);
// when it writes, the file gets mode 0600.
//
// All input is validated first; on any error nothing is written. A symlinked
// PATH is followed: the target is rewritten (and locked and backed up beside
// it), the link is left in place.
func Apply(path string, sections []Section, opts Options) (Result, error) {
	if err := validateSections(sections); err != nil {
		return Result{}, err
	}
	return update(path, change{want: sections}, opts)
}

// Remove deletes these sections (for teardown), keeping everything else; it
// is a no-op when none is present.
func Remove(path string, names []string, opts Options) (Result, error) {
	for _, n := range names {
		if err := ValidateName(n); err != nil {
			return Result{}, err
		}
	}
	return update(path, change{drop: names}, opts)
}

// Pending reports which of the sections differ from the file (read-only; for
// a plan); with a missing file all differ.
func Pending(path string, sections []Section) ([]string, error) {
	if err := validateSections(sections); err != nil {
		return nil, err
	}
	data, _, exists, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	if !exists {
		for _, s := range sections {
			out = append(out, s.Name)
		}
		return out, nil
	}
	d, _, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range sections {
		if !d.inSync(s) {
			out = append(out, s.Name)
		}
	}
	return out, nil
}

// Read returns section -> key -> value as ini.v1 reads the file (a missing
// file gives an empty map and no error). Section names are trimmed, so
// "[ a ]" and "[a]" read as one section "a", later keys winning; a
// sub-property "endpoint_url" under key "s3" is returned as
// "s3.endpoint_url", next to "s3" itself (usually ""). The implicit DEFAULT
// section appears only when keys precede the first header.
func Read(path string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	data, _, exists, err := readFile(path)
	if err != nil || !exists {
		return out, err
	}
	_, f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range f.Sections() {
		if s.Name() == defaultSection && len(s.Keys()) == 0 {
			continue
		}
		name := strings.TrimSpace(s.Name())
		m := out[name]
		if m == nil {
			m = map[string]string{}
			out[name] = m
		}
		for _, k := range s.Keys() {
			m[k.Name()] = k.Value()
			for _, n := range subProperties(k.NestedValues()) {
				sub, v, ok := splitNested(n)
				if !ok {
					sub = n
				}
				m[k.Name()+"."+sub] = v
			}
		}
	}
	return out, nil
}

// Perm reports the file's permission bits and whether group or other can
// read or write it (tooOpen); a missing file gives exists=false and no error.
// Symlinks are followed, as Apply follows them.
func Perm(path string) (mode os.FileMode, tooOpen bool, exists bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, false, false, nil
		}
		return 0, false, false, err
	}
	mode = fi.Mode().Perm()
	return mode, mode&0o066 != 0, true, nil
}

// compute plans c against data: the new bytes, whether they differ, and
// whether an existing owned section is altered (which is what warrants a
// backup). The plan is verified before it is returned.
func compute(data []byte, c change) (out []byte, changed, alters bool, err error) {
	d, _, err := parse(data)
	if err != nil {
		return nil, false, false, err
	}
	e := newEdit(d)
	for _, s := range c.want {
		if len(d.occurrencesOf(s.Name)) > 0 && !d.inSync(s) {
			alters = true
		}
		e.put(s)
	}
	for _, n := range c.drop {
		for _, oi := range d.occurrencesOf(n) {
			e.remove(oi)
			alters = true
		}
	}
	out = e.bytes()
	if bytes.Equal(out, data) {
		return data, false, false, nil
	}
	if err := verify(d, out, c.want, c.drop); err != nil {
		return nil, false, false, fmt.Errorf("%w: %w: %v", ErrSyntax, errUnsafeEdit, err)
	}
	return out, true, alters, nil
}

// update runs one locked read-modify-write of path. It first plans without
// the lock, so a file already in sync is neither locked nor touched.
func update(path string, c change, opts Options) (Result, error) {
	real, err := resolve(path)
	if err != nil {
		return Result{}, err
	}
	data, _, _, err := readFile(real)
	if err != nil {
		return Result{}, err
	}
	if _, changed, _, err := compute(data, c); err != nil || !changed {
		if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return Result{}, err
	}

	if err := ensureDir(filepath.Dir(real)); err != nil {
		return Result{}, err
	}
	l, err := lock(real, opts.LockTimeout)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = l.Unlock() }() // closing the lock file releases it in any case

	// Re-read under the lock: another process may have written meanwhile.
	data, info, exists, err := readFile(real)
	if err != nil {
		return Result{}, err
	}
	out, changed, alters, err := compute(data, c)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return Result{}, nil
	}
	var res Result
	if exists && opts.Backup && alters {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		if res.BackupPath, err = writeBackup(real, data, now()); err != nil {
			return Result{}, err
		}
	}
	if err := writeAtomic(real, out, info); err != nil {
		return res, fmt.Errorf("write %s: %w", path, err)
	}
	res.Changed = true
	res.Tightened = exists && info.Mode().Perm()&0o077 != 0
	return res, nil
}
