package examples_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// Each example is built once per test binary; the wasmcluster binary, the
// compilation cache and the processes' cache home live in the run
// directory, which testkit.Main removes.
func TestMain(m *testing.M) { testkit.Main(m) }

// example returns the module file of the named example, built once: the C
// files of a C example (with the README's flags), the lib.rs of a Rust
// example (no_std, Debian's rustc), an AssemblyScript example
// (a package.json) built with its build script, the one .wat file of a wat-
// example, or else a Go package stripped like `wasmcluster build` does.
func example(t testing.TB, name string) string {
	t.Helper()
	if c, _ := filepath.Glob(filepath.Join(name, "*.c")); len(c) > 0 {
		return testkit.TempFile(t, name+".wasm", testkit.CWasm(t, name))
	}
	if _, err := os.Stat(filepath.Join(name, "lib.rs")); err == nil {
		return testkit.TempFile(t, name+".wasm", testkit.RustWasm(t, name))
	}
	if _, err := os.Stat(filepath.Join(name, "package.json")); err == nil {
		return testkit.TempFile(t, name+".wasm", testkit.AssemblyScript(t, name))
	}
	if !strings.HasPrefix(name, "wat-") {
		return testkit.TempFile(t, name+".wasm", testkit.GoWasm(t, name, "-ldflags=-s -w"))
	}
	src, _ := filepath.Glob(filepath.Join(name, "*.wat"))
	if len(src) != 1 {
		t.Fatalf("%s: want one .wat file, have %v", name, src)
	}
	return testkit.TempFile(t, name+".wasm", testkit.WATFile(t, src[0]))
}

// upstream is the next handler every example test uses: it says what it got.
func upstream(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-upstream", "1")
		fmt.Fprintf(w, "upstream got %s %s authorization=%q\n", r.Method, r.RequestURI, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// target is one way of serving an example: in process through host.New, or
// through the real binary.
type target struct {
	name  string
	serve func(t *testing.T, wasmPath, guestConfig, upstreamURL string) string // returns base URL
}

var targets = []target{
	{"host", serveHost},
	{"binary", serveBinary},
}

func serveHost(t *testing.T, wasmPath, guestConfig, upstreamURL string) string {
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(upstreamURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := host.New(ctx, wasm, host.Config{
		CacheDir:    filepath.Join(testkit.Dir(t), "cache"), // shared with the binary: warms its cache
		GuestConfig: []byte(guestConfig),
		Upstream:    u,
		PoolSize:    2,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

// serveBinary runs `wasmcluster serve` and returns its address once it logs
// that it is serving.
func serveBinary(t *testing.T, wasmPath, guestConfig, upstreamURL string) string {
	return startBinary(t, wasmPath, guestConfig, upstreamURL).URL()
}

// startBinary is serveBinary returning the server, for tests that read its
// log.
func startBinary(t *testing.T, wasmPath, guestConfig, upstreamURL string) *testkit.Server {
	args := []string{"serve", wasmPath, "--listen", "127.0.0.1:0", "--log-format", "json",
		"--upstream", upstreamURL, "--cache-dir", filepath.Join(testkit.Dir(t), "cache"),
		"--workers", "1", "--control", "-", "--plugin-pool-size", "1"}
	if guestConfig != "" {
		args = append(args, "--plugin-config", guestConfig)
	}
	cmd := exec.Command(testkit.Wasmcluster(t), args...)
	cmd.Env = testkit.Env(t)
	return testkit.Start(t, cmd)
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// forEachTarget serves the example both ways and runs check against each.
func forEachTarget(t *testing.T, name, guestConfig string, check func(t *testing.T, base, upstreamURL string)) {
	wasmPath := example(t, name)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			if tg.name == "binary" && testing.Short() {
				t.Skip("starts the wasmcluster binary")
			}
			up := upstream(t)
			check(t, tg.serve(t, wasmPath, guestConfig, up.URL), up.URL)
		})
	}
}
