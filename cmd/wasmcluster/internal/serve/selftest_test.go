package serve

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
)

// requestLogGuest writes "request seen" to stderr (which the host logs) on
// every request and answers "ok".
func requestLogGuest(t *testing.T) []byte {
	return testkit.WAT(t, `(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (data (i32.const 16) "request seen\n")
  (data (i32.const 64) "\10\00\00\00\0d\00\00\00")
  (func (export "handle_request") (result i64)
    (drop (call $fd_write (i32.const 2) (i32.const 64) (i32.const 1) (i32.const 80)))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`)
}

// In-process (--workers 0) the self-test request reaches a version once,
// as it reaches each worker process once: the check's request, on the very
// plugin that then serves, is not sent a second time (a synthetic request
// may have side effects; that is why it is opt-in).
func TestInProcessSelfTestOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	writePlugin(t, path, requestLogGuest(t))
	o, logs := testOptions(t, path, workers.InProcess)
	o.Host = host.Config{PoolSize: 1, CacheDir: t.TempDir()}
	o.PreflightPath = "/probe"
	startRun(t, o, logs)
	if n := strings.Count(logs.String(), "request seen"); n != 1 {
		t.Fatalf("the self-test reached the plugin %d times before any client request, want 1:\n%s", n, logs)
	}
}
