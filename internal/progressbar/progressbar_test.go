package progressbar

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	got := render("data.bin", 6<<20, 12<<20)
	want := "data.bin                 [===============>              ]  50% 6.0 MiB / 12.0 MiB"
	if got != want {
		t.Fatalf("\n got %q\nwant %q", got, want)
	}
	if got := render("x", 12, 12); !strings.Contains(got, "[==============================] 100%") {
		t.Fatalf("complete bar %q", got)
	}
	if got := render("x", 5, 0); strings.Contains(got, "[") {
		t.Fatalf("unknown total drew a bar: %q", got)
	}
}

func TestUpdateThrottlesButAlwaysDrawsTheEnd(t *testing.T) {
	var sb strings.Builder
	b := New(&sb, "f")
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	b.Update(0, 100)
	b.Update(10, 100) // within the interval: skipped
	b.Update(100, 100)
	if n := strings.Count(sb.String(), "\r"); n != 2 {
		t.Fatalf("drew %d times, want 2: %q", n, sb.String())
	}
	b.Finish()
	if !strings.HasSuffix(sb.String(), "\r") {
		t.Fatalf("Finish did not clear the line: %q", sb.String())
	}
}
