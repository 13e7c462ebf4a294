package kvopen_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
)

func TestOpenChoosesByURL(t *testing.T) {
	ctx := context.Background()
	if st, err := kvopen.Open(ctx, kv.Config{URL: "off"}); st != nil || !errors.Is(err, kv.ErrOff) {
		t.Fatalf("off: %v, %v; want kv.ErrOff", st, err)
	}
	for _, u := range []string{"", "embedded"} {
		_, err := kvopen.Open(ctx, kv.Config{URL: u})
		if err == nil || !strings.Contains(err.Error(), "kv.url") || !strings.Contains(err.Error(), "WorkerConfig") {
			t.Fatalf("%q without the primary's server: %v", u, err)
		}
	}
	for _, u := range []string{"mysql://x", "nats:/x", "redis//x"} {
		_, err := kvopen.Open(ctx, kv.Config{URL: u})
		if err == nil || !strings.Contains(err.Error(), `kv.url = "`+u+`"`) {
			t.Fatalf("%q: %v, want an error naming kv.url and the value", u, err)
		}
	}
	// Unreachable servers open: the stores report themselves unhealthy.
	for _, tc := range []struct{ url, backend string }{
		{"nats://127.0.0.1:1", "nats"}, {"redis://127.0.0.1:1", "redis"},
	} {
		st, err := kvopen.Open(ctx, kv.Config{URL: tc.url, Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if st.Backend() != tc.backend || !errors.Is(st.Health(ctx), kv.ErrUnavailable) {
			t.Fatalf("%s: Backend %q, Health %v", tc.url, st.Backend(), st.Health(ctx))
		}
		st.Close()
	}
}

// TestOpenEmbedded is the wiring: a primary's server, a worker's Config as
// JSON would carry it, and --workers 0's in-process Config.
func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	// A worker gets its Config as JSON, as host.Config travels.
	b, err := json.Marshal(srv.WorkerConfig(kv.Config{Bucket: "wired"}))
	if err != nil {
		t.Fatal(err)
	}
	var cfg kv.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	worker, err := kvopen.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	inproc, err := kvopen.Open(ctx, srv.InProcessConfig(kv.Config{Bucket: "wired"}))
	if err != nil {
		t.Fatal(err)
	}
	defer inproc.Close()
	if _, err := worker.Incr(ctx, []byte("n"), 1, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := inproc.Incr(ctx, []byte("n"), 1, 0); err != nil || n != 2 {
		t.Fatalf("the in-process store does not share the worker's data: %d, %v", n, err)
	}
	if worker.Backend() != "embedded" || inproc.Backend() != "embedded" {
		t.Fatalf("Backend() = %q, %q", worker.Backend(), inproc.Backend())
	}
}
