package host_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestWASISandbox: guests get WASI with nothing granted (no environment, no
// arguments beyond a program name, no preopened directories, no sockets)
// but real clocks and randomness; their stdout and stderr go to the
// plugin's logger.
func TestWASISandbox(t *testing.T) {
	t.Setenv("HOST_TEST_SECRET", "must-not-leak")
	logger, logs := captureLogger(slog.LevelDebug)
	p := newPlugin(t, wat(t, "wasi"), host.Config{Logger: logger, Name: "wasi-plugin"})
	rec := serve(t, p, get("/"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d %q", rec.Code, rec.Body.String())
	}
	got := map[string]string{}
	for _, kv := range strings.Split(rec.Body.String(), ",") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, ok := range map[string]func(string) bool{
		"env":     func(v string) bool { return v == "0" },
		"argc":    func(v string) bool { return v == "0" || v == "1" },
		"prestat": func(v string) bool { return v != "0" && v != "" }, // no fd 3: no directory
		"sock":    func(v string) bool { return v != "0" && v != "" },
		"clock":   func(v string) bool { return v == "1" }, // real wall clock, not wazero's fake
		"mono":    func(v string) bool { return v == "1" },
		"rand":    func(v string) bool { return v == "1" },
	} {
		if !ok(got[k]) {
			t.Errorf("%s=%s (guest report %q)", k, got[k], rec.Body.String())
		}
	}
	for _, text := range []string{"from-stdout", "from-stderr"} {
		recs := logs.find(text)
		if len(recs) != 1 || !recs[0].has("wasi-plugin") {
			t.Errorf("guest %s not logged once, tagged with the plugin: %v (all: %v)", text, recs, logs.all())
		}
	}
}
