package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// The test binary doubles as the worker process: the primary under test
// re-executes it (as `<binary> worker`), and TestMain turns it into
// RunWorker, as the hidden worker command does in the real binary.
func TestMain(m *testing.M) {
	if workers.IsWorkerProcess() {
		level := new(slog.LevelVar)
		level.Set(slog.LevelDebug)
		log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		if err := RunWorker(context.Background(), log, level); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Snapshot stores default to the user cache directory: keep them in
	// one that goes away with the run.
	dir, err := os.MkdirTemp("", "serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// versionGuest answers every request with "version NAME\n".
func versionGuest(t *testing.T, name string) []byte {
	t.Helper()
	return testkit.HelloWAT(t, "version "+name+"\n")
}

// initLogGuest writes "guest initialized" to stderr once per instance (in
// _initialize), which the host logs, and answers "ok".
func initLogGuest(t *testing.T) []byte { return stderrGuest(t, "guest initialized", "_initialize") }

// stderrGuest answers "ok" and writes msg and a newline to stderr (which
// the host logs) each time its export named at runs: "_initialize" (once
// per instance) or "handle_request" (every request).
func stderrGuest(t *testing.T, msg, at string) []byte {
	t.Helper()
	write := `(drop (call $fd_write (i32.const 2) (i32.const 64) (i32.const 1) (i32.const 80)))`
	onInit, onRequest := "", ""
	if at == "_initialize" {
		onInit = `(func (export "_initialize") ` + write + `)`
	} else {
		onRequest = write
	}
	return testkit.WAT(t, fmt.Sprintf(`(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (data (i32.const 16) "%s\n")
  (data (i32.const 64) "\10\00\00\00\%02x\00\00\00")
  %s
  (func (export "handle_request") (result i64)
    %s
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`, msg, len(msg)+1, onInit, onRequest))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writePlugin replaces path with b atomically (as mv and go build -o do).
func writePlugin(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// testLogger logs at debug level into logs, for assertions, and with -v
// to stderr too.
func testLogger(logs *testkit.Buffer) *slog.Logger {
	var w io.Writer = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testOptions serves plugin on 127.0.0.1:0 with a control socket in a
// temporary directory, signals left alone, logging into the returned
// buffer.
func testOptions(t *testing.T, plugin string, n int) (Options, *testkit.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.Buffer{}
	return Options{
		Plugin:        plugin,
		Workers:       n,
		Listener:      ln,
		ControlPath:   filepath.Join(testkit.SocketDir(t), "c.sock"),
		DrainTimeout:  10 * time.Second,
		Server:        httpserve.Options{IdleGrace: 300 * time.Millisecond},
		IgnoreSignals: true,
		Logger:        testLogger(logs),
	}, logs
}

// startRun runs Run until the test ends (then checks it stopped cleanly)
// and returns once every worker serves.
func startRun(t *testing.T, o Options, logs *testkit.Buffer) {
	t.Helper()
	logOnFailure(t, logs)
	ready := make(chan struct{})
	o.OnReady = func(net.Addr) { close(ready) }
	testkit.StartFunc(t, "Run", ready, func(ctx context.Context) error { return Run(ctx, o) })
}

// logOnFailure logs logs at the end of the test if it failed.
func logOnFailure(t *testing.T, logs *testkit.Buffer) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs)
		}
	})
}

// get answers "status body" for GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// status asks the instance at sock for its status.
func status(t *testing.T, sock string) *control.Status {
	t.Helper()
	st, err := control.QueryStatus(t.Context(), sock)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st
}

// allOn reports whether st's n workers all serve version and no roll is
// under way.
func allOn(st *control.Status, version string, n int) bool {
	if st.Version != version || st.Target != "" || len(st.Workers) != n {
		return false
	}
	for _, w := range st.Workers {
		if w.State != "ready" || w.Version != version {
			return false
		}
	}
	return true
}

// countInits counts the instances initLogGuest initialized.
func countInits(log string) int { return strings.Count(log, "guest initialized") }
