package guest_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
)

// Guests are built once per test binary (a Go build takes seconds on this
// box) into a temp cache shared by every test.
var (
	buildDir  string
	buildMu   sync.Mutex
	builtWasm = map[string][]byte{}
	buildErrs = map[string]error{}
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "guest-test-*")
	if err != nil {
		panic(err)
	}
	buildDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// guestWasm builds the Go package in dir (relative to this package) once.
func guestWasm(t testing.TB, dir string) []byte {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := builtWasm[dir]; ok {
		return b
	}
	if err, ok := buildErrs[dir]; ok {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := gobuild.Build(ctx, dir, gobuild.Options{CacheDir: filepath.Join(buildDir, "cache")})
	if err != nil {
		buildErrs[dir] = err
		t.Fatal(err)
	}
	b, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	builtWasm[dir] = b
	return b
}

// newPlugin loads wasm into a host and closes it with the test.
func newPlugin(t testing.TB, wasm []byte, cfg host.Config) *host.Plugin {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(buildDir, "wazero")
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
