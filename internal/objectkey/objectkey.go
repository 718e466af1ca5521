// Package objectkey turns file names chosen by people into S3 object keys under the
// application's prefix: safe characters only, and unique so that two uploads of the
// same name never overwrite each other (the role may not read, so it cannot check).
package objectkey

import (
	"crypto/rand"
	"encoding/hex"
	"path"
	"strings"
	"time"
)

// MaxNameLength caps the sanitised name, so prefix + stamp + name stays far below
// S3's 1024-byte key limit and the names stay readable in a listing.
const MaxNameLength = 120

// Sanitize keeps only [A-Za-z0-9._-] of the last path element of name, collapses every
// run of other characters (and of dashes) into one '-', strips leading dots and dashes
// (no hidden files, no "..", nothing that looks like an option) and caps the length
// while keeping the extension. A name with nothing left becomes "file".
func Sanitize(name string) string {
	// Browsers and shells may send a path ("C:\Users\x\a.pdf", "../a.pdf"): only the base counts.
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	var b strings.Builder
	dash := false
	for _, r := range name {
		if r == '.' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := b.String()
	ext := path.Ext(s)
	if ext == "." || len(ext) > 16 {
		ext = "" // a trailing dot or an overlong "extension" is just part of the name
	}
	base := strings.TrimRight(strings.TrimLeft(strings.TrimSuffix(s, ext), ".-"), ".-")
	if strings.Trim(base, "._") == "" {
		base = "file"
	}
	if len(base)+len(ext) > MaxNameLength {
		base = strings.TrimRight(base[:MaxNameLength-len(ext)], "-")
	}
	return base + ext
}

// Unique returns prefix + a UTC time stamp + a random suffix + the sanitised name,
// for example "uploads/20261203T171140Z-ab12cd-report.pdf". The stamp sorts listings
// by upload time; the suffix separates uploads within the same second.
func Unique(prefix, name string, now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b) + "-" + Sanitize(name)
}

// Under places key under prefix unless it is there already, because the role may only
// write below its prefix; a leading "/" is dropped since S3 keys do not start with one.
func Under(prefix, key string) string {
	key = strings.TrimLeft(key, "/")
	if strings.HasPrefix(key, prefix) {
		return key
	}
	return prefix + key
}
