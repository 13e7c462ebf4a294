package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
)

// "*" in outbound.allow is for development: the server says so at start;
// a list without it is passed on silently.
func TestOutboundGrantWarnsOnStar(t *testing.T) {
	for _, tt := range []struct {
		allow []string
		warn  bool
	}{
		{[]string{"*"}, true},
		{[]string{"https://api.example.com", "*"}, true},
		{[]string{"https://api.example.com"}, false},
		{nil, false},
	} {
		var buf bytes.Buffer
		cfg := config.Default()
		cfg.Outbound.Allow, cfg.Outbound.Timeout = tt.allow, 3*time.Second
		g := outboundGrant(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if warned := strings.Contains(buf.String(), `level=WARN`) && strings.Contains(buf.String(), `outbound.allow has \"*\"`); warned != tt.warn {
			t.Errorf("allow %q: warned=%v, want %v (log %q)", tt.allow, warned, tt.warn, buf.String())
		}
		if len(g.Allow) != len(tt.allow) || g.Timeout != 3*time.Second || g.MaxResponseBody != 10<<20 || g.MaxConcurrent != 256 {
			t.Errorf("allow %q: grant %+v", tt.allow, g)
		}
	}
}
