package guest_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestTCK runs the http-wasm conformance kit against our host with the
// kit's guest behaviour re-implemented on the SDK (testdata/tck): every
// case exercises an SDK call end to end.
func TestTCK(t *testing.T) {
	srv, _ := serve(t, "testdata/tck", host.Config{Next: tck.BackendHandler()})
	tck.Run(t, srv.Client(), srv.URL)
}

// TestTCKThroughBinary runs the kit against `wasmcluster serve` (worker
// processes, the reverse proxy as next) with the kit's backend as upstream.
func TestTCKThroughBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wasmcluster binary")
	}
	plugin := testkit.TempFile(t, "tck.wasm", guestWasm(t, "testdata/tck"))
	backend := tck.StartBackend("127.0.0.1:0")
	t.Cleanup(backend.Close)

	cmd := exec.Command(testkit.Wasmcluster(t), "serve", plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL,
		"--workers", "1", "--control", "-", "--plugin-pool-size", "2", "--log-format", "json", "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	cmd.Env = testkit.Env(t)
	tck.Run(t, http.DefaultClient, testkit.Start(t, cmd).URL())
}
