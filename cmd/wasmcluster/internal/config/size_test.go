package config

import (
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"-1", -1, true},
		{"64KiB", 64 << 10, true},
		{"64 kib", 64 << 10, true},
		{"10MiB", 10 << 20, true},
		{"1GiB", 1 << 30, true},
		{"2KB", 2000, true},
		{"3MB", 3000000, true},
		{"5GB", 5000000000, true},
		{"12B", 12, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"1.5MiB", 0, false},
		{"10 lightyears", 0, false},
		{"9999999999999GiB", 0, false},
		{"0x10", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSizeString(t *testing.T) {
	for in, want := range map[Size]string{0: "0", -1: "-1", 1024: "1KiB", 10 << 20: "10MiB", 1 << 30: "1GiB", 1500: "1500", 3 << 30: "3GiB"} {
		if got := in.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(in), got, want)
		}
	}
}

// Whatever parses, prints back to the same value.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "-1", "64KiB", "10MB", "1 GiB", "7b", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		back, err := ParseSize(n.String())
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, String %q parses to %d, %v", s, n, n.String(), back, err)
		}
	})
}
