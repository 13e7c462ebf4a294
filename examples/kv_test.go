package examples_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The shared store through the binary: the examples that use it, served
// by several workers (and instances) at once.

// serveKV runs `wasmcluster serve` on wasmPath with workers worker
// processes and the store flags given (e.g. --kv-dir DIR, --kv-url URL).
func serveKV(t *testing.T, wasmPath string, workers int, extra ...string) *testkit.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the wasmcluster binary")
	}
	args := append([]string{"serve", wasmPath, "--listen", "127.0.0.1:0", "--log-format", "json",
		"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", fmt.Sprint(workers),
		"--control", "-", "--admin", "off", "--plugin-pool-size", "2"}, extra...)
	cmd := exec.Command(testkit.Wasmcluster(t), args...)
	cmd.Env = testkit.Env(t)
	return testkit.Start(t, cmd)
}

// visit GETs base with the client's cookie jar and returns the body.
func visit(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q", base, resp.StatusCode, b)
	}
	return string(b)
}

func jarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A new connection per request, so both workers take turns.
	return &http.Client{Jar: jar, Transport: &http.Transport{DisableKeepAlives: true}}
}

// A session's count goes on whichever of two workers answers, a second
// client has its own session, and the store keeps it across a restart.
func TestSessionsAcrossWorkersAndRestart(t *testing.T) {
	wasm := example(t, "sessions")
	dir := t.TempDir()
	srv := serveKV(t, wasm, 2, "--kv-dir", dir)
	srv.WaitLog(`"dir":"` + dir)
	a, b := jarClient(t), jarClient(t)
	for i := 1; i <= 20; i++ {
		if got, want := visit(t, a, srv.URL()), fmt.Sprintf("visits: %d\n", i); got != want {
			t.Fatalf("client A visit %d: %q, want %q", i, got, want)
		}
	}
	if got := visit(t, b, srv.URL()); got != "visits: 1\n" {
		t.Errorf("client B's first visit: %q", got)
	}
	if code := srv.Stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	srv = serveKV(t, wasm, 1, "--kv-dir", dir)
	if got := visit(t, a, srv.URL()); got != "visits: 21\n" {
		t.Errorf("after a restart: %q, want visits: 21", got)
	}
}

// counterWAT increments "hits" by 1 for GET / and by 0 for any other path,
// answering the new count as 8 little-endian bytes.
const counterWAT = `(module
  (import "wasmcluster" "kv_incr" (func $incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (import "wasmcluster" "last_error" (func $last_error (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hits")
  (func (export "handle_request") (result i64)
    (local $delta i64)
    (if (i32.eq (call $get_uri (i32.const 64) (i32.const 64)) (i32.const 1))
      (then (local.set $delta (i64.const 1))))
    (if (call $incr (i32.const 0) (i32.const 4) (local.get $delta) (i64.const 0) (i32.const 16))
      (then
        (call $set_status_code (i32.const 503))
        (call $write_body (i32.const 1) (i32.const 256) (call $last_error (i32.const 256) (i32.const 1024)))
        (return (i64.const 0))))
    (call $write_body (i32.const 1) (i32.const 16) (i32.const 8))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`

// Concurrent increments of one key from every worker are atomic: none is
// lost, none applied twice. The figure is 2 workers x 64 clients x
// 500 increments (64,000); on the 2 shared cores this runs on, the default
// is 64 clients x 100 (6,400), still exact. KV_HAMMER_FULL=1 runs the full
// count (128 clients x 500, split over the 2 workers).
func TestIncrAcrossWorkersIsExact(t *testing.T) {
	clients, each := 64, 100
	if os.Getenv("KV_HAMMER_FULL") == "1" {
		clients, each = 128, 500
	}
	wasm := testkit.TempFile(t, "counter.wasm", testkit.WAT(t, counterWAT))
	// A generous kv.timeout: this is about atomicity, on an overloaded box.
	srv := serveKV(t, wasm, 2, "--kv-dir", t.TempDir(), "--kv-timeout", "20s", "--request-timeout", "60s")
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for range clients {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for range each {
				resp, err := c.Get(srv.URL() + "/")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %q", resp.StatusCode, b))
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d increments failed, the first: %v", n, firstErr.Load())
	}
	resp, err := http.Get(srv.URL() + "/read")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) != 8 {
		t.Fatalf("read: %d %q", resp.StatusCode, b)
	}
	if got, want := binary.LittleEndian.Uint64(b), uint64(clients*each); got != want {
		t.Errorf("hits = %d after %d increments", got, want)
	}
}

// N requests per client per window reach next; the next is answered 429
// with Retry-After.
func TestRatelimitThroughBinary(t *testing.T) {
	wasm := example(t, "ratelimit")
	up := upstream(t)
	srv := serveKV(t, wasm, 2, "--kv-dir", t.TempDir(), "--plugin-config", "3/1h", "--upstream", up.URL)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 1; i <= 4; i++ {
		resp, err := c.Get(srv.URL() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case i <= 3 && (resp.StatusCode != 200 || resp.Header.Get("x-upstream") != "1"):
			t.Errorf("request %d: %d %q, want the upstream's answer", i, resp.StatusCode, b)
		case i == 4 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || string(b) != "too many requests\n"):
			t.Errorf("request 4: %d %v %q, want 429 with Retry-After", i, resp.StatusCode, resp.Header)
		}
	}
}

// kv.url = off: a plugin that imports the store's functions is refused,
// naming the setting; an unusable kv.dir, or one another instance uses, is
// a clear error, exit 1.
func TestKVOffAndBadDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	wasm := example(t, "sessions")
	run := func(extra ...string) (string, int) {
		args := append([]string{"serve", wasm, "--listen", "127.0.0.1:0", "--control", "-", "--admin", "off",
			"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "1"}, extra...)
		cmd := exec.Command(testkit.Wasmcluster(t), args...)
		cmd.Env = testkit.Env(t)
		_, stderr, code := testkit.Run(t, cmd)
		return stderr, code
	}
	stderr, code := run("--kv-url", "off")
	if code == 0 || !strings.Contains(stderr, `kv.url = "off"`) || !strings.Contains(stderr, "wasmcluster.kv_") {
		t.Errorf("kv.url off: exit %d, stderr:\n%s", code, stderr)
	}
	file := testkit.TempFile(t, "not-a-dir", []byte("x"))
	stderr, code = run("--kv-dir", filepath.Join(file, "kv"))
	if code != 1 || !strings.Contains(stderr, "kv.dir") {
		t.Errorf("kv.dir under a file: exit %d, stderr:\n%s", code, stderr)
	}
	// A second instance on a kv.dir in use is refused: two embedded
	// servers would both write its files.
	dir := t.TempDir()
	serveKV(t, wasm, 1, "--kv-dir", dir)
	stderr, code = run("--kv-dir", dir)
	if code != 1 || !strings.Contains(stderr, "is in use by another wasmcluster") {
		t.Errorf("second instance on one kv.dir: exit %d, stderr:\n%s", code, stderr)
	}
}

// --workers 0 reaches the embedded store in-process (no TCP port).
func TestSessionsInProcess(t *testing.T) {
	srv := serveKV(t, example(t, "sessions"), 0, "--kv-dir", t.TempDir())
	c := jarClient(t)
	for i := 1; i <= 3; i++ {
		if got, want := visit(t, c, srv.URL()), fmt.Sprintf("visits: %d\n", i); got != want {
			t.Fatalf("visit %d: %q, want %q", i, got, want)
		}
	}
}

// Two instances on one machine with the default kv.dir each get a store of
// their own (one directory per listen address), instead of the second
// being refused, and a restart on the same address finds its data again.
func TestDefaultKVDirPerListenAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	wasm := example(t, "sessions")
	state := t.TempDir() // one user's state directory, shared by both
	start := func(listen string) *testkit.Server {
		cmd := exec.Command(testkit.Wasmcluster(t), "serve", wasm, "--listen", listen, "--log-format", "json",
			"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "1",
			"--control", "-", "--admin", "off", "--plugin-pool-size", "2")
		cmd.Env = testkit.Env(t, "XDG_STATE_HOME="+state)
		return testkit.Start(t, cmd)
	}
	a := start(freeAddr(t))
	b := start(freeAddr(t))
	ca, cb := jarClient(t), jarClient(t)
	for i := 1; i <= 2; i++ {
		if got, want := visit(t, ca, a.URL()), fmt.Sprintf("visits: %d\n", i); got != want {
			t.Fatalf("instance A visit %d: %q, want %q", i, got, want)
		}
	}
	if got := visit(t, cb, b.URL()); got != "visits: 1\n" {
		t.Fatalf("instance B: %q, want its own store", got)
	}
	dirs, err := filepath.Glob(filepath.Join(state, "wasmcluster", "kv", "listen-*"))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("store directories: %v %v, want one per listen address", dirs, err)
	}
	addr := a.Addr
	if code := a.Stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	a = start(addr)
	if got := visit(t, ca, a.URL()); got != "visits: 3\n" {
		t.Errorf("after a restart on the same address: %q, want visits: 3", got)
	}
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
