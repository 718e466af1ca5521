package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name             string
		in               []time.Duration
		median, min, max time.Duration
		spread           float64
	}{
		{"none", nil, 0, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 0},
		{"odd, unsorted", ms(30, 10, 20, 50, 40), 30 * time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond, 40.0 / 30 * 100},
		{"even: mean of the middle two", ms(40, 10, 20, 30), 25 * time.Millisecond, 10 * time.Millisecond, 40 * time.Millisecond, 120},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append([]time.Duration(nil), c.in...)
			s := summarize(in)
			if s.Median != c.median || s.Min != c.min || s.Max != c.max || s.N != len(c.in) {
				t.Errorf("summarize(%v) = %+v, want median %v min %v max %v", c.in, s, c.median, c.min, c.max)
			}
			if d := s.Spread() - c.spread; d > 1e-9 || d < -1e-9 {
				t.Errorf("Spread() = %v, want %v", s.Spread(), c.spread)
			}
			for i := range in {
				if in[i] != c.in[i] {
					t.Fatalf("summarize reordered its input: %v", in)
				}
			}
		})
	}
}

func TestRangeOfAndKinds(t *testing.T) {
	res := results{
		scenB: {
			{Counts: map[string]int{"s3:PutObject": 2, "iam:GetUser": 1, "sts:AssumeRole": 1}},
			{Counts: map[string]int{"s3:PutObject": 2, "iam:GetUser": 2, "sts:AssumeRole": 1}},
		},
		scenC: {{Counts: map[string]int{"iam:CreateUser": 1}}},
	}
	if got := rangeOf(res[scenB], func(s sample) int { return s.Counts["iam:GetUser"] }).String(); got != "1–2" {
		t.Errorf("range of GetUser = %q, want 1–2", got)
	}
	if got := rangeOf(res[scenB], sample.total).String(); got != "4–5" {
		t.Errorf("range of totals = %q, want 4–5", got)
	}
	if got := rangeOf(nil, sample.total); got != (intRange{}) {
		t.Errorf("range of nothing = %+v", got)
	}
	want := "iam:CreateUser,iam:GetUser,sts:AssumeRole,s3:PutObject"
	if got := strings.Join(kinds(res), ","); got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
}

func TestCheckTargets(t *testing.T) {
	d := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	res := results{
		scenB: {{Counts: map[string]int{"iam:CreateUser": 1, "iam:GetUser": 1, "s3:PutObject": 1}, IAMWrites: 1}},
		scenC: {{Counts: map[string]int{"iam:GetUser": 1, "s3:PutObject": 1}}},
	}
	sums := map[string]summary{
		scenA:     {N: 5, Median: d(5000)},
		scenFloor: {N: 5, Median: d(100)},
		scenB:     {N: 5, Median: d(201)},
		scenC:     {N: 5, Median: d(50)},
	}
	got := map[string]bool{}
	for _, tg := range checkTargets(res, sums) {
		got[tg.Goal] = tg.Met
	}
	want := map[string]bool{
		"b within 2× the floor b0 (medians)": false, // 201 > 200
		"b faster than a (medians)":          true,
		"c makes no IAM write":               true,
		"c makes fewer calls than b":         true,
	}
	for goal, met := range want {
		if m, ok := got[goal]; !ok || m != met {
			t.Errorf("target %q: met=%v (present %v), want %v", goal, m, ok, met)
		}
	}
}

func TestReplaceBlock(t *testing.T) {
	doc := "# Title\n\nintro\n\n" + markerStart + "\nold table\nold line\n" + markerEnd + "\n\nafter\n"
	got, ok := replaceBlock(doc, "new table\n\n")
	if !ok {
		t.Fatal("markers not found")
	}
	want := "# Title\n\nintro\n\n" + markerStart + "\nnew table\n" + markerEnd + "\n\nafter\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// Replacing again gives the same document: the block does not grow.
	again, _ := replaceBlock(got, "new table")
	if again != want {
		t.Errorf("second replacement changed the document:\n%q", again)
	}
	for _, bad := range []string{
		"no markers at all",
		markerStart + " but no end",
		markerEnd + " before " + markerStart,
	} {
		if out, ok := replaceBlock(bad, "x"); ok || out != bad {
			t.Errorf("replaceBlock(%q) = %q, %v; want it unchanged and false", bad, out, ok)
		}
	}
}

func TestWriteReadme(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "README.md")
	if err := os.WriteFile(path, []byte("a\n"+markerStart+"\n"+markerEnd+"\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReadme(path, "| x |\n"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if want := "a\n" + markerStart + "\n| x |\n" + markerEnd + "\nb\n"; string(data) != want {
		t.Errorf("README is\n%q\nwant\n%q", data, want)
	}
	if err := os.WriteFile(path, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReadme(path, "x"); err == nil {
		t.Error("writeReadme without markers succeeded")
	}
	if data, _ := os.ReadFile(path); string(data) != "no markers\n" {
		t.Errorf("a README without markers was changed: %q", data)
	}
}

func TestMarkdownHasEveryScenarioAndTarget(t *testing.T) {
	res := results{}
	for _, id := range scenarioOrder {
		res[id] = []sample{{Dur: 10 * time.Millisecond, Counts: map[string]int{"sts:GetCallerIdentity": 1}}}
	}
	md := buildReport(res, machine{CPU: "test CPU", CPUs: 2}, options{runs: 1}).markdown()
	for _, id := range scenarioOrder {
		if !strings.Contains(md, "| "+id+" | "+scenarioTitles[id]) {
			t.Errorf("no row for scenario %s in\n%s", id, md)
		}
	}
	for _, s := range []string{"test CPU", "sts:GetCallerIdentity", "PASS", "c makes fewer calls than b"} {
		if !strings.Contains(md, s) {
			t.Errorf("no %q in\n%s", s, md)
		}
	}
}
