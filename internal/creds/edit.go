package creds

import (
	"fmt"
	"strings"
	"unicode"
)

// occurrencesOf lists the indexes in d.occs of every header matching name.
func (d *document) occurrencesOf(name string) []int {
	var out []int
	for i, o := range d.occs {
		if o.header >= 0 && o.name == name {
			out = append(out, i)
		}
	}
	return out
}

// inSync reports whether the file holds s exactly once, with exactly its keys
// and values, each key once and unindented, so Apply would change nothing.
func (d *document) inSync(s Section) bool {
	occ := d.occurrencesOf(s.Name)
	if len(occ) != 1 {
		return false
	}
	o := d.occs[occ[0]]
	have := map[string]*keyView{}
	var cur *keyView
	for i := o.header + 1; i <= o.last; i++ {
		switch l := d.lines[i]; l.kind {
		case kKey:
			if l.indented || have[l.name] != nil {
				return false
			}
			cur = &keyView{value: l.val}
			have[l.name] = cur
		case kNested:
			cur.nested = append(cur.nested, l.val)
		}
	}
	if len(have) != len(s.Keys) {
		return false
	}
	for _, kv := range s.Keys {
		k := have[kv.Key]
		if k == nil || !keyMatches(k, kv) {
			return false
		}
	}
	return true
}

// keyMatches compares one existing key with the wanted KV, treating nested
// sub-properties as an unordered set and ignoring comments among them.
func keyMatches(k *keyView, kv KV) bool {
	subs := subProperties(k.nested)
	if len(kv.Nested) == 0 {
		return k.value == kv.Value && len(subs) == 0
	}
	if k.value != "" || len(subs) != len(kv.Nested) {
		return false
	}
	m := make(map[string]string, len(subs))
	for _, n := range subs {
		key, value, ok := splitNested(n)
		if _, dup := m[key]; !ok || dup {
			return false
		}
		m[key] = value
	}
	for _, n := range kv.Nested {
		if v, ok := m[n.Key]; !ok || v != n.Value {
			return false
		}
	}
	return true
}

// render writes one KV as lines, nested sub-properties indented by two spaces.
func render(kv KV, eol string) []string {
	if len(kv.Nested) == 0 {
		return []string{kv.Key + " = " + kv.Value + eol}
	}
	out := []string{kv.Key + " =" + eol}
	for _, n := range kv.Nested {
		out = append(out, "  "+n.Key+" = "+n.Value+eol)
	}
	return out
}

// edit is a pending splice: lines to drop, and generated lines to emit after
// a given original line (or at the end of the file).
type edit struct {
	d      *document
	skip   []bool
	after  map[int][]string
	append []string
}

func newEdit(d *document) *edit {
	return &edit{d: d, skip: make([]bool, len(d.lines)), after: map[int][]string{}}
}

// put makes section s exact: the first occurrence is edited key by key
// (keeping its header line, comments and every key already right), later
// occurrences are removed, and a missing section is appended.
func (e *edit) put(s Section) {
	d := e.d
	occ := d.occurrencesOf(s.Name)
	if len(occ) == 0 {
		if len(e.append) > 0 {
			e.append = append(e.append, d.eol)
		}
		e.append = append(e.append, "["+s.Name+"]"+d.eol)
		for _, kv := range s.Keys {
			e.append = append(e.append, render(kv, d.eol)...)
		}
		return
	}
	for _, i := range occ[1:] {
		e.remove(i)
	}
	if len(occ) == 1 && d.inSync(s) {
		return
	}
	o := d.occs[occ[0]]
	want := make(map[string]KV, len(s.Keys))
	for _, kv := range s.Keys {
		want[kv.Key] = kv
	}
	done := map[string]bool{}
	keepNested := false
	for i := o.header + 1; i <= o.last; i++ {
		l := d.lines[i]
		switch l.kind {
		case kKey:
			kv, wanted := want[l.name]
			keepNested = false
			switch {
			case !wanted || done[l.name]:
				e.skip[i] = true
			case !l.indented && keyMatches(d.keyAt(i), kv):
				keepNested = true
			default:
				// Indented key lines are rewritten flush left: once a
				// neighbour changes they could turn into sub-properties.
				// The new block goes where the old one ended, so comments
				// among its sub-properties stay inside the section.
				e.skip[i] = true
				end := d.blockEnd(i)
				e.after[end] = append(e.after[end], render(kv, d.eol)...)
			}
			done[l.name] = true
		case kNested:
			e.skip[i] = !keepNested
		}
	}
	for _, kv := range s.Keys {
		if !done[kv.Key] {
			e.after[o.last] = append(e.after[o.last], render(kv, d.eol)...)
		}
	}
}

// keyAt is the key on line i with the nested lines that follow it.
func (d *document) keyAt(i int) *keyView {
	k := &keyView{value: d.lines[i].val}
	for j := i + 1; j <= d.blockEnd(i); j++ {
		if d.lines[j].kind == kNested {
			k.nested = append(k.nested, d.lines[j].val)
		}
	}
	return k
}

// blockEnd is the index of the last nested line belonging to the key on line
// i (comments and blank lines may sit among them), or i when it has none.
func (d *document) blockEnd(i int) int {
	end := i
	for j := i + 1; j < len(d.lines); j++ {
		switch d.lines[j].kind {
		case kNested:
			end = j
		case kBlank, kComment:
		default:
			return end
		}
	}
	return end
}

// remove drops an occurrence's header and body up to its last key; comments
// and blank lines after that stay, since they usually introduce what follows.
// A blank line left doubled (or trailing) by the removal goes too.
func (e *edit) remove(oi int) {
	o := e.d.occs[oi]
	for i := o.header; i <= o.last; i++ {
		e.skip[i] = true
	}
	prev := o.header - 1
	if prev >= 0 && !e.skip[prev] && e.d.lines[prev].kind == kBlank &&
		(o.last+1 == len(e.d.lines) || e.d.lines[o.last+1].kind == kBlank) {
		e.skip[prev] = true
	}
}

// bytes assembles the new file.
func (e *edit) bytes() []byte {
	var out []string
	push := func(s string) {
		if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
			out[n-1] += e.d.eol
		}
		out = append(out, s)
	}
	for i, l := range e.d.lines {
		if !e.skip[i] {
			push(l.raw)
		}
		for _, g := range e.after[i] {
			push(g)
		}
	}
	if len(e.append) > 0 {
		if n := len(out); n > 0 && strings.TrimLeftFunc(out[n-1], unicode.IsSpace) != "" {
			push(e.d.eol)
		}
		for _, g := range e.append {
			push(g)
		}
	}
	return []byte(e.d.bom + strings.Join(out, ""))
}

// verify re-parses the spliced result and checks it against the intent:
// every wanted section exact, every dropped one gone, and every other
// section read exactly as before. It is the last gate before a write.
func verify(before *document, after []byte, want []Section, drop []string) error {
	d, _, err := parse(after)
	if err != nil {
		return fmt.Errorf("edited file would not parse: %w", err)
	}
	owned := map[string]bool{}
	for _, s := range want {
		owned[s.Name] = true
		if !d.inSync(s) {
			return fmt.Errorf("edited file would not hold section [%s] exactly", s.Name)
		}
	}
	for _, n := range drop {
		owned[n] = true
		if len(d.occurrencesOf(n)) > 0 {
			return fmt.Errorf("edited file would still hold section [%s]", n)
		}
	}
	if dd := diff(unowned(before.view(), owned), unowned(d.view(), owned), true); dd != "" {
		return fmt.Errorf("edit would change sections it does not own: %s", dd)
	}
	return nil
}

// unowned is v without the sections whose trimmed name is owned.
func unowned(v *view, owned map[string]bool) *view {
	out := newView()
	for _, name := range v.order {
		if !owned[strings.TrimSpace(name)] {
			out.order = append(out.order, name)
			out.secs[name] = v.secs[name]
		}
	}
	return out
}
