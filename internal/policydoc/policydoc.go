// Package policydoc renders the policy documents from the templates in policies/,
// and compares documents by meaning rather than by text.
//
// IAM hands documents back URL-encoded, may turn a one-element list into a string or
// back, and keeps statements in whatever order it was given; two documents that grant
// the same thing must compare equal, or every run would create a new policy version.
package policydoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"text/template"

	"github.com/iamwizard/iamwizard/internal/setup"
	"github.com/iamwizard/iamwizard/policies"
)

// IAM's document size limits, counted without whitespace.
const (
	MaxManagedPolicySize = 6144
	MaxTrustPolicySize   = 2048
)

// Documents are the three documents a setup needs.
type Documents struct {
	UserPolicy string `json:"user_policy"` // lets the user assume the role, and nothing else
	RolePolicy string `json:"role_policy"` // lets the role put objects under the prefix, and nothing else
	Trust      string `json:"trust"`       // lets only the user assume the role
}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	// json quotes a value as a JSON string, so no value can break out of its string.
	"json": func(s string) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			return "", err
		}
		return strings.TrimSuffix(b.String(), "\n"), nil
	},
}).ParseFS(policies.Templates, "*.json.tmpl"))

// Render validates the setup and renders its three documents; each is checked to be
// valid JSON within IAM's size limits.
func Render(s setup.Setup) (Documents, error) {
	if err := s.Validate(); err != nil {
		return Documents{}, err
	}
	if s.Partition == "" || s.Account == "" {
		return Documents{}, errors.New("internal: the partition and account must be known before rendering")
	}
	data := struct{ RoleARN, UserARN, ObjectsARN string }{s.RoleARN(), s.UserARN(), s.ObjectsARN()}
	var docs Documents
	for _, d := range []struct {
		name  string
		limit int
		out   *string
	}{
		{policies.UserAssumeRole, MaxManagedPolicySize, &docs.UserPolicy},
		{policies.RolePutObject, MaxManagedPolicySize, &docs.RolePolicy},
		{policies.RoleTrust, MaxTrustPolicySize, &docs.Trust},
	} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, d.name, data); err != nil {
			return Documents{}, fmt.Errorf("rendering %s: %w", d.name, err)
		}
		if err := CheckSize(b.String(), d.limit); err != nil {
			return Documents{}, fmt.Errorf("%s: %w", d.name, err)
		}
		*d.out = b.String()
	}
	return docs, nil
}

// CheckSize returns an error when a document is not JSON or is over IAM's limit.
func CheckSize(doc string, limit int) error {
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(doc)); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if n := compact.Len(); n > limit {
		return fmt.Errorf("the document is %d characters; IAM allows %d: use shorter names", n, limit)
	}
	return nil
}

// Decode undoes the URL-encoding IAM applies to documents it returns.
func Decode(doc string) (string, error) {
	trimmed := strings.TrimSpace(doc)
	if strings.HasPrefix(trimmed, "{") {
		return trimmed, nil
	}
	// IAM encodes as RFC 3986 (a '+' in a name arrives as %2B); PathUnescape keeps a
	// literal '+', and form-style encodings with '+' for spaces are tried next.
	if s, err := url.PathUnescape(trimmed); err == nil && json.Valid([]byte(s)) {
		return s, nil
	}
	s, err := url.QueryUnescape(trimmed)
	if err != nil {
		return "", fmt.Errorf("the policy document is neither JSON nor URL-encoded JSON: %w", err)
	}
	return s, nil
}

// Normalize returns a canonical form of a document: statements as a sorted list,
// Action/Resource/Principal values as sorted lists, action names in lower case (IAM
// matches them ignoring case), and Sid dropped (it names a statement, grants nothing).
func Normalize(doc string) (string, error) {
	decoded, err := Decode(doc)
	if err != nil {
		return "", err
	}
	var root map[string]any
	dec := json.NewDecoder(strings.NewReader(decoded))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return "", fmt.Errorf("the policy document is not a JSON object: %w", err)
	}
	if dec.More() {
		return "", errors.New("the policy document has trailing data after the JSON object")
	}
	var statements []any
	switch st := root["Statement"].(type) {
	case []any:
		statements = st
	case map[string]any:
		statements = []any{st}
	case nil:
	default:
		return "", errors.New("the policy document's Statement is neither an object nor a list")
	}
	keyed := make([]string, 0, len(statements))
	for _, raw := range statements {
		st, ok := raw.(map[string]any)
		if !ok {
			return "", errors.New("a statement in the policy document is not an object")
		}
		delete(st, "Sid")
		for _, k := range []string{"Action", "NotAction"} {
			if v, ok := st[k]; ok {
				st[k] = stringSet(v, true)
			}
		}
		for _, k := range []string{"Resource", "NotResource"} {
			if v, ok := st[k]; ok {
				st[k] = stringSet(v, false)
			}
		}
		// In a trust (resource-based) policy the resource is the role itself: a Resource
		// of only empty strings, which some endpoints add, matches nothing and means nothing.
		if _, hasPrincipal := st["Principal"]; hasPrincipal {
			if rs, ok := st["Resource"].([]string); ok && len(rs) == 1 && rs[0] == "" {
				delete(st, "Resource")
			}
		}
		for _, k := range []string{"Principal", "NotPrincipal"} {
			if p, ok := st[k].(map[string]any); ok {
				for pk, pv := range p {
					p[pk] = stringSet(pv, false)
				}
			}
		}
		if c, ok := st["Condition"].(map[string]any); ok {
			for _, ops := range c {
				if m, ok := ops.(map[string]any); ok {
					for key, v := range m {
						m[key] = stringSet(v, false)
					}
				}
			}
		}
		b, err := json.Marshal(st)
		if err != nil {
			return "", err
		}
		keyed = append(keyed, string(b))
	}
	sort.Strings(keyed)
	keyed = compactSorted(keyed) // a repeated statement grants nothing more
	normal := make([]json.RawMessage, len(keyed))
	for i, k := range keyed {
		normal[i] = json.RawMessage(k)
	}
	root["Statement"] = normal
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// stringSet turns a string or a list into a sorted list without repeats; other values are kept as they are.
func stringSet(v any, lower bool) any {
	var items []string
	switch t := v.(type) {
	case string:
		items = []string{t}
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return v
			}
			items = append(items, s)
		}
	default:
		return v
	}
	if lower {
		for i := range items {
			items[i] = strings.ToLower(items[i])
		}
	}
	sort.Strings(items)
	return compactSorted(items)
}

func compactSorted(items []string) []string {
	out := items[:0]
	for i, s := range items {
		if i == 0 || s != items[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Equal reports whether two documents grant the same thing.
func Equal(a, b string) (bool, error) {
	na, err := Normalize(a)
	if err != nil {
		return false, err
	}
	nb, err := Normalize(b)
	if err != nil {
		return false, err
	}
	return na == nb, nil
}

// Diff returns a line diff ("- " removed, "+ " added, "  " kept) from the current
// document to the desired one, both normalized; "" when they are equal.
func Diff(current, desired string) (string, error) {
	nc, err := Normalize(current)
	if err != nil {
		return "", fmt.Errorf("current document: %w", err)
	}
	nd, err := Normalize(desired)
	if err != nil {
		return "", fmt.Errorf("desired document: %w", err)
	}
	if nc == nd {
		return "", nil
	}
	return lineDiff(strings.Split(nc, "\n"), strings.Split(nd, "\n")), nil
}

// lineDiff is a longest-common-subsequence diff; documents are tens of lines long.
func lineDiff(a, b []string) string {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + b[j] + "\n")
			j++
		default:
			out.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}

// Principals returns the AWS principals a (trust) policy's Allow statements name.
func Principals(doc string) []string {
	decoded, err := Decode(doc)
	if err != nil {
		return nil
	}
	var root struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(decoded), &root) != nil {
		return nil
	}
	var statements []map[string]any
	if json.Unmarshal(root.Statement, &statements) != nil {
		var one map[string]any
		if json.Unmarshal(root.Statement, &one) != nil {
			return nil
		}
		statements = []map[string]any{one}
	}
	var out []string
	for _, st := range statements {
		if st["Effect"] != "Allow" {
			continue
		}
		if p, ok := st["Principal"].(map[string]any); ok {
			if list, ok := stringSet(p["AWS"], false).([]string); ok {
				out = append(out, list...)
			}
		}
	}
	return out
}
