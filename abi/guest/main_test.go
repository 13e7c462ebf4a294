package guest_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The run directory (testkit.Dir) holds the compilation cache every test
// shares; testkit.Main removes it.
func TestMain(m *testing.M) { testkit.Main(m) }

// guestWasm builds the Go package in dir (relative to this package) once,
// stripped like `wasmcluster build` does.
func guestWasm(t testing.TB, dir string) []byte {
	t.Helper()
	return testkit.GoWasm(t, dir, "-ldflags=-s -w")
}

// newPlugin loads wasm into a host and closes it with the test.
func newPlugin(t testing.TB, wasm []byte, cfg host.Config) *host.Plugin {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(testkit.Dir(t), "wazero")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := host.New(ctx, wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// serve starts an httptest server for the plugin built from dir.
func serve(t testing.TB, dir string, cfg host.Config) (*httptest.Server, *host.Plugin) {
	t.Helper()
	p := newPlugin(t, guestWasm(t, dir), cfg)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv, p
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// must returns a function that fails the test on a transport error, so
// must(t)(client.Get(url)) reads like one call.
func must(t testing.TB) func(*http.Response, error) *http.Response {
	return func(resp *http.Response, err error) *http.Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
}
