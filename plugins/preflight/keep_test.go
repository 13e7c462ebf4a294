package preflight_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
)

// Keep hands over the plugin an accepted check loaded, with its full pool
// and the serving next; the self-test still got the stub. A refused check
// keeps nothing.
func TestKeep(t *testing.T) {
	served := 0
	o := opts("/healthz")
	o.Host.PoolSize = 3
	o.Host.Next = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served++
		w.WriteHeader(http.StatusTeapot)
	})
	var kept *host.Plugin
	o.Keep = func(p *host.Plugin) { kept = p }
	if err := check(t, testwasm.WAT(t, "next"), o); err != nil {
		t.Fatalf("refused: %v", err)
	}
	if kept == nil {
		t.Fatal("Keep not called for an accepted version")
	}
	defer kept.Close(context.Background())
	if served != 0 {
		t.Fatalf("the self-test reached the serving next %d times; want the stub", served)
	}
	rec := httptest.NewRecorder()
	kept.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot || served != 1 {
		t.Fatalf("kept plugin answered %d (next called %d times); want the serving next's 418", rec.Code, served)
	}
	if err := kept.WaitPrewarmed(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := kept.Stats(); s.PoolSize != 3 || s.Live != 3 {
		t.Fatalf("kept plugin pool: size %d live %d, want 3 and 3", s.PoolSize, s.Live)
	}

	kept = nil
	o.Path = ""
	if err := check(t, testwasm.WAT(t, "missing_export"), o); !preflight.IsRefusal(err) {
		t.Fatalf("want a refusal, got %v", err)
	}
	if kept != nil {
		t.Fatal("Keep called for a refused version")
	}
}
