// Package bytesize reads and writes sizes as people type them: 100MiB, 5MB, 1G, 4096.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

var units = []struct {
	suffix string
	factor float64
}{
	// Longest suffixes first, so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	// A bare K, M, G or T is binary, as in most tools' size flags.
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1}, {"", 1},
}

// Parse reads a size such as "100MiB", "1.5G" or "4096" (bytes); it must be positive.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range units {
		if !strings.HasSuffix(t, u.suffix) {
			continue
		}
		num := strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break
		}
		n := v * u.factor
		if n < 1 || n > math.MaxInt64/2 {
			return 0, fmt.Errorf("size %q is out of range", s)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("size %q: write a number with an optional unit, like 100MiB, 5MB or 1G", s)
}

// Format writes n bytes in binary units with one decimal: "12.0 MiB", "512 B".
func Format(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || u == "TiB" {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return "" // unreachable
}
