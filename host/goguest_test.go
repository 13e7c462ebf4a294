package host_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestGoGuestFailures: a Go panic and a Go out-of-memory (memory.grow refused
// at the cap) in a standard Go guest are 500s with the generic body; the
// panic text goes to the log, not the client; the next request is served by
// a fresh instance.
func TestGoGuestFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest; skipped in -short")
	}
	logger, logs := captureLogger(slog.LevelDebug)
	p := newPlugin(t, goGuest(t, "gobad"), host.Config{PoolSize: 1, MemoryLimitPages: 256, Logger: logger})
	for _, mode := range []string{"p", "m"} {
		t.Run(mode, func(t *testing.T) {
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
			wantGuestFailure(t, serve(t, p, get("/", "x-mode", mode)))
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
		})
	}
	if len(logs.find("gobad: asked to panic")) == 0 {
		t.Errorf("the guest's panic message is not in the log: %v", logs.all())
	}
	if s := p.Stats(); s.Traps != 2 || s.Live > 1 {
		t.Errorf("stats: %+v", s)
	}
}
