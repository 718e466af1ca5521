package creds

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid marks input (a name, key or value) that this package refuses to write.
var ErrInvalid = errors.New("invalid INI input")

// MaxLen is the longest section name, key or value accepted, in characters.
const MaxLen = 1024

// defaultSection is the name ini.v1 gives to keys before the first header; owning it would mean owning those keys.
const defaultSection = "DEFAULT"

func invalid(what, s, why string) error {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return fmt.Errorf("%w: %s %q %s", ErrInvalid, what, s, why)
}

// checkCommon applies the rules every written token shares: parsers disagree
// on anything else, and a newline would let a value inject keys or sections.
func checkCommon(what, s string) error {
	switch {
	case s == "":
		return invalid(what, s, "is empty")
	case !utf8.ValidString(s):
		return invalid(what, s, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > MaxLen:
		return invalid(what, s, fmt.Sprintf("is longer than %d characters", MaxLen))
	case strings.TrimSpace(s) != s:
		return invalid(what, s, "has leading or trailing whitespace")
	case s[0] == '#' || s[0] == ';':
		return invalid(what, s, "starts with a comment character")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return invalid(what, s, "contains a control or line-break character")
		}
	}
	return nil
}

// ValidateName rejects a section name that could break the file: besides the
// common rules (empty, control characters, newlines, NUL, outer spaces,
// leading '#' or ';', over MaxLen) it forbids '[', ']', '=' and the name
// DEFAULT, under which ini.v1 files the keys above the first header.
func ValidateName(name string) error {
	if err := checkCommon("section name", name); err != nil {
		return err
	}
	if strings.ContainsAny(name, "[]=") {
		return invalid("section name", name, "contains '[', ']' or '='")
	}
	if name == defaultSection {
		return invalid("section name", name, "is reserved: ini.v1 files keys above the first header under it")
	}
	return nil
}

// ValidateKey rejects a key name that a parser could split, unquote or
// renumber: the common rules plus no '[', ']', '=', ':' or whitespace, no
// leading quote or backtick, and not "-".
func ValidateKey(key string) error {
	if err := checkCommon("key", key); err != nil {
		return err
	}
	switch {
	case strings.ContainsAny(key, "[]=:"):
		return invalid("key", key, "contains '[', ']', '=' or ':'")
	case strings.IndexFunc(key, unicode.IsSpace) >= 0:
		return invalid("key", key, "contains whitespace")
	case key[0] == '"' || key[0] == '\'' || key[0] == '`':
		return invalid("key", key, "starts with a quote")
	case key == "-":
		return invalid("key", key, "is ini.v1's auto-increment marker")
	}
	return nil
}

// ValidateValue rejects a value that some INI parser would read differently
// from what was written: the common rules plus no leading quote or backtick
// (stripped or read as multi-line), no whitespace before '#' or ';' (an inline
// comment to the AWS SDK for Go v2) and no trailing backslash (a continuation).
func ValidateValue(value string) error {
	if err := checkCommon("value", value); err != nil {
		return err
	}
	switch value[0] {
	case '"', '\'', '`':
		return invalid("value", value, "starts with a quote")
	}
	if strings.HasSuffix(value, `\`) {
		return invalid("value", value, "ends with a backslash")
	}
	prevSpace := false
	for _, r := range value {
		if prevSpace && (r == '#' || r == ';') {
			return invalid("value", value, "has whitespace before '#' or ';'")
		}
		prevSpace = unicode.IsSpace(r)
	}
	return nil
}

// validateSections checks everything Apply or Pending would write before any
// file is touched.
func validateSections(sections []Section) error {
	seen := make(map[string]bool, len(sections))
	for _, s := range sections {
		if err := ValidateName(s.Name); err != nil {
			return err
		}
		if seen[s.Name] {
			return invalid("section name", s.Name, "is listed twice")
		}
		seen[s.Name] = true
		if err := validateKVs(s.Name, s.Keys, true); err != nil {
			return err
		}
	}
	return nil
}

func validateKVs(section string, kvs []KV, allowNested bool) error {
	keys := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		if err := ValidateKey(kv.Key); err != nil {
			return fmt.Errorf("section %q: %w", section, err)
		}
		if keys[kv.Key] {
			return fmt.Errorf("section %q: %w", section, invalid("key", kv.Key, "is listed twice"))
		}
		keys[kv.Key] = true
		if len(kv.Nested) == 0 {
			if err := ValidateValue(kv.Value); err != nil {
				return fmt.Errorf("section %q key %q: %w", section, kv.Key, err)
			}
			continue
		}
		if !allowNested {
			return fmt.Errorf("section %q: %w", section, invalid("key", kv.Key, "nests more than one level"))
		}
		if kv.Value != "" {
			return fmt.Errorf("section %q: %w", section, invalid("key", kv.Key, "has both a value and nested keys"))
		}
		if err := validateKVs(section+" "+kv.Key, kv.Nested, false); err != nil {
			return err
		}
	}
	return nil
}
