package serve

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/workers"
)

// In-process (--workers 0) the self-test request reaches a version once,
// as it reaches each worker process once: the check's request, on the very
// plugin that then serves, is not sent a second time (a synthetic request
// may have side effects; that is why it is opt-in).
func TestInProcessSelfTestOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	writePlugin(t, path, stderrGuest(t, "request seen", "handle_request"))
	o, logs := testOptions(t, path, workers.InProcess)
	o.Host = host.Config{PoolSize: 1, CacheDir: t.TempDir()}
	o.PreflightPath = "/probe"
	startRun(t, o, logs)
	if n := strings.Count(logs.String(), "request seen"); n != 1 {
		t.Fatalf("the self-test reached the plugin %d times before any client request, want 1:\n%s", n, logs)
	}
}
