package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// summary is the median and spread of a scenario's durations.
type summary struct {
	N      int
	Median time.Duration
	Min    time.Duration
	Max    time.Duration
}

// summarize computes the median (the mean of the two middle values for an even count),
// minimum and maximum of ds; the zero summary for none.
func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return summary{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// Spread is the range (max - min) relative to the median, in percent.
func (s summary) Spread() float64 {
	if s.Median <= 0 {
		return 0
	}
	return float64(s.Max-s.Min) / float64(s.Median) * 100
}

// intRange is the smallest and largest of a count over several runs.
type intRange struct{ Lo, Hi int }

// String prints one number when every run agreed, else "lo–hi".
func (r intRange) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprint(r.Lo)
	}
	return fmt.Sprintf("%d–%d", r.Lo, r.Hi)
}

// rangeOf is the range of the values f takes over the samples.
func rangeOf(ss []sample, f func(sample) int) intRange {
	if len(ss) == 0 {
		return intRange{}
	}
	r := intRange{Lo: f(ss[0]), Hi: f(ss[0])}
	for _, s := range ss[1:] {
		v := f(s)
		r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
	}
	return r
}

// kinds lists every "service:Operation" seen in any sample, IAM first, then STS, then
// S3, each alphabetically.
func kinds(res results) []string {
	seen := map[string]bool{}
	for _, ss := range res {
		for _, s := range ss {
			for k := range s.Counts {
				seen[k] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	rank := func(k string) int {
		switch {
		case strings.HasPrefix(k, "iam:"):
			return 0
		case strings.HasPrefix(k, "sts:"):
			return 1
		case strings.HasPrefix(k, "s3:"):
			return 2
		}
		return 3
	}
	slices.SortFunc(out, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return out
}

// durations are the samples' wall times.
func durations(ss []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// ms formats a duration in milliseconds, with one decimal below 100 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 100 {
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}
