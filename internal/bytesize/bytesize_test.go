package bytesize

import "testing"

func TestParse(t *testing.T) {
	good := map[string]int64{"4096": 4096, "100MiB": 100 << 20, "5MB": 5e6, "1G": 1 << 30, "1.5 KiB": 1536, " 2m ": 2 << 20, "10b": 10}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "-1MB", "0", "1XB", "NaN", "1e30T"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 12 << 20: "12.0 MiB", 3 << 30: "3.0 GiB"}
	for in, want := range cases {
		if got := Format(in); got != want {
			t.Errorf("Format(%d) = %q, want %q", in, got, want)
		}
	}
}
