package creds

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/ini.v1"
)

// ErrSyntax marks a file this package will not read or edit: it does not
// parse, or ini.v1 and the line splicer would disagree about its structure.
var ErrSyntax = errors.New("INI syntax this tool will not edit")

// loadOptions make ini.v1 read the way the AWS CLI and SDKs do: no "\"
// continuations, no inline comments, quotes kept, indented sub-properties.
var loadOptions = ini.LoadOptions{
	IgnoreContinuation:      true,
	IgnoreInlineComment:     true,
	AllowNestedValues:       true,
	PreserveSurroundedQuote: true,
}

type kind uint8

const (
	kBlank kind = iota
	kComment
	kHeader
	kKey
	kNested
)

// line is one line of the file as the splicer sees it.
type line struct {
	raw      string // the bytes of the line, terminator included
	kind     kind
	name     string // header: the text between the brackets, untrimmed; key: the key name
	val      string // key: the trimmed value; nested: the trimmed line
	indented bool   // key line that starts with whitespace
}

// occurrence is one run of lines under one header (or before the first header).
type occurrence struct {
	raw    string // name as ini.v1 sees it; defaultSection for the preamble
	name   string // raw, trimmed: what owned names are matched against
	header int    // index of the header line; -1 for the preamble
	end    int    // one past the last line before the next header
	last   int    // index of the last key or nested line; header when there is none
}

// document is a scanned file: BOM, lines and where each section runs.
type document struct {
	bom   string
	lines []line
	occs  []occurrence // occs[0] is the preamble
	eol   string       // "\r\n" when the file's first line ends so, else "\n"
}

// scan splits data into classified lines using ini.v1's own rules (its
// whitespace set, its BOM handling, its nested-value rule) so that the two
// agree on every file ini.v1 parses plainly.
func scan(data []byte) (*document, error) {
	d := &document{eol: "\n"}
	s := string(data)
bom:
	for {
		switch {
		case strings.HasPrefix(s, "\xfe\xff"), strings.HasPrefix(s, "\xff\xfe"):
			d.bom, s = d.bom+s[:2], s[2:]
		case strings.HasPrefix(s, "\xef\xbb\xbf"):
			d.bom, s = d.bom+s[:3], s[3:]
		default:
			break bom
		}
	}
	// A lone CR is a line break to Python (the AWS CLI) but not to Go parsers;
	// the two would see different sections.
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return nil, fmt.Errorf("%w: line %d has a carriage return that does not end the line", ErrSyntax, strings.Count(s[:i], "\n")+1)
		}
	}

	cur := occurrence{raw: defaultSection, name: defaultSection, header: -1, last: -1}
	lastValueEmpty := false
	for s != "" {
		raw := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			raw = s[:i+1]
		}
		s = s[len(raw):]
		idx := len(d.lines)
		if idx == 0 && strings.HasSuffix(raw, "\r\n") {
			d.eol = "\r\n"
		}
		l := line{raw: raw}
		if lastValueEmpty && (raw[0] == ' ' || raw[0] == '\t') {
			// ini.v1 AllowNestedValues: an indented line after an empty value is a sub-property.
			l.kind, l.val = kNested, strings.TrimSpace(raw)
			cur.last = idx
			d.lines = append(d.lines, l)
			continue
		}
		t := strings.TrimLeftFunc(raw, unicode.IsSpace)
		switch {
		case t == "":
			l.kind = kBlank
		case t[0] == '#' || t[0] == ';':
			l.kind = kComment
		case t[0] == '[':
			c := strings.LastIndexByte(t, ']')
			if c < 0 {
				return nil, fmt.Errorf("%w: line %d: unclosed section header", ErrSyntax, idx+1)
			}
			if c == 1 {
				return nil, fmt.Errorf("%w: line %d: empty section name", ErrSyntax, idx+1)
			}
			cur.end = idx
			d.occs = append(d.occs, cur)
			l.kind, l.name = kHeader, t[1:c]
			cur = occurrence{raw: l.name, name: strings.TrimSpace(l.name), header: idx, last: idx}
			lastValueEmpty = false
		default:
			i := strings.IndexAny(t, "=:")
			if i < 0 {
				return nil, fmt.Errorf("%w: line %d is not a key, section header or comment", ErrSyntax, idx+1)
			}
			if i == 0 {
				return nil, fmt.Errorf("%w: line %d has an empty key name", ErrSyntax, idx+1)
			}
			l.kind = kKey
			l.name = strings.TrimSpace(t[:i])
			l.val = strings.TrimSpace(t[i+1:])
			if strings.HasPrefix(l.val, `"""`) || strings.HasPrefix(l.val, "`") {
				// ini.v1 reads these as quoted, possibly multi-line values (and
				// whether `"""` opens one depends on a following newline); the
				// AWS parsers read them literally.
				return nil, fmt.Errorf("%w: line %d: value starts with \"\"\" or a backtick", ErrSyntax, idx+1)
			}
			l.indented = len(t) != len(raw)
			lastValueEmpty = l.val == ""
			cur.last = idx
		}
		d.lines = append(d.lines, l)
	}
	cur.end = len(d.lines)
	d.occs = append(d.occs, cur)
	return d, nil
}

// keyView is a key as a parser sees it after merging duplicates.
type keyView struct {
	value  string
	nested []string // trimmed sub-property lines, comments included
}

// sectionView is a section's keys in first-seen order.
type sectionView struct {
	order []string
	keys  map[string]*keyView
}

// view is every section by raw name, in first-seen order, DEFAULT first.
type view struct {
	order []string
	secs  map[string]*sectionView
}

func newView() *view { return &view{secs: map[string]*sectionView{}} }

func (v *view) section(name string) *sectionView {
	s := v.secs[name]
	if s == nil {
		s = &sectionView{keys: map[string]*keyView{}}
		v.secs[name] = s
		v.order = append(v.order, name)
	}
	return s
}

// set mirrors ini.v1's NewKey: a repeated key keeps its place, takes the new
// value and keeps collecting nested lines.
func (s *sectionView) set(name, value string) *keyView {
	k := s.keys[name]
	if k == nil {
		k = &keyView{}
		s.keys[name] = k
		s.order = append(s.order, name)
	}
	k.value = value
	return k
}

// view merges the document's occurrences the way ini.v1 does.
func (d *document) view() *view {
	v := newView()
	for _, o := range d.occs {
		sec := v.section(o.raw)
		var cur *keyView
		for i := o.header + 1; i < o.end; i++ {
			switch l := d.lines[i]; l.kind {
			case kKey:
				cur = sec.set(l.name, l.val)
			case kNested:
				cur.nested = append(cur.nested, l.val)
			}
		}
	}
	return v
}

// iniView is what ini.v1 itself makes of the file.
func iniView(f *ini.File) *view {
	v := newView()
	for _, s := range f.Sections() {
		sec := v.section(s.Name())
		for _, k := range s.Keys() {
			kv := sec.set(k.Name(), k.Value())
			kv.nested = append(kv.nested, k.NestedValues()...)
		}
	}
	return v
}

// diff names the first difference between two views, or returns "" when
// they are equal; norm compares nested lines without comments and blanks.
func diff(a, b *view, norm bool) string {
	if !slices.Equal(a.order, b.order) {
		return fmt.Sprintf("sections %q vs %q", a.order, b.order)
	}
	for _, name := range a.order {
		if d := diffSection(a.secs[name], b.secs[name], norm); d != "" {
			return fmt.Sprintf("section [%s]: %s", name, d)
		}
	}
	return ""
}

func diffSection(a, b *sectionView, norm bool) string {
	if !slices.Equal(a.order, b.order) {
		return fmt.Sprintf("keys %q vs %q", a.order, b.order)
	}
	for _, k := range a.order {
		x, y := a.keys[k], b.keys[k]
		xn, yn := x.nested, y.nested
		if norm {
			xn, yn = subProperties(xn), subProperties(yn)
		}
		if x.value != y.value || !slices.Equal(xn, yn) {
			return fmt.Sprintf("key %q: %q %q vs %q %q", k, x.value, xn, y.value, yn)
		}
	}
	return ""
}

// subProperties drops the nested lines no AWS parser gives meaning to: blank
// lines and comments.
func subProperties(nested []string) []string {
	var out []string
	for _, n := range nested {
		if n != "" && n[0] != '#' && n[0] != ';' {
			out = append(out, n)
		}
	}
	return out
}

// splitNested splits "sub = value" on its first '=', as botocore does.
func splitNested(n string) (key, value string, ok bool) {
	k, v, ok := strings.Cut(n, "=")
	k = strings.TrimSpace(k)
	return k, strings.TrimSpace(v), ok && k != ""
}

// parse scans data and cross-checks the scan against ini.v1; it fails unless
// both read the same sections, keys, values and nested lines.
func parse(data []byte) (*document, *ini.File, error) {
	d, err := scan(data)
	if err != nil {
		return nil, nil, err
	}
	f, err := ini.LoadSources(loadOptions, data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if dd := diff(d.view(), iniView(f), false); dd != "" {
		return nil, nil, fmt.Errorf("%w: ini.v1 reads the file differently from a plain line reading (multi-line or quoted syntax?): %s", ErrSyntax, dd)
	}
	return d, f, nil
}
