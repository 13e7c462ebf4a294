package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A plugin refused at startup exits 1 with the refusal, also when its
// compiled code is cached already, so the first worker loads it while the
// primary checks it (held back, never serving): the second start of each
// case below takes that path.
func TestStartupRefusalWithWarmCache(t *testing.T) {
	tests := []struct {
		name  string
		guest string
		args  []string
		want  string
	}{
		{"trap in _initialize", "inittrap", nil, "_initialize failed"},
		{"preflight path answers 503", "status503", []string{"--plugin-preflight-path", "/healthz"}, "answered 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugin := wat(t, tt.guest)
			cache := filepath.Join(t.TempDir(), "cache")
			for run := 1; run <= 2; run++ {
				args := append([]string{"serve", plugin, "--listen", "127.0.0.1:0", "--workers", "1", "--cache-dir", cache,
					"--control", "-", "--admin", "off"}, tt.args...)
				r := runBin(t, nil, args...)
				if r.code != 1 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "refused") {
					t.Fatalf("run %d: exit %d, want 1 with %q; stderr:\n%s", run, r.code, tt.want, r.stderr)
				}
				if run == 2 && !strings.Contains(r.stderr, "primary started") {
					t.Fatalf("run 2 did not start the primary before the check (cache not seen as warm):\n%s", r.stderr)
				}
				if strings.Contains(r.stderr, "worker ready") {
					t.Fatalf("run %d: a worker became ready with a refused plugin:\n%s", run, r.stderr)
				}
			}
		})
	}
}
