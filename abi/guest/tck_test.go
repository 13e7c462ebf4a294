package guest_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmcluster/wasmcluster/host"
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
	wasm := guestWasm(t, "testdata/tck")
	dir := t.TempDir()
	plugin := filepath.Join(dir, "tck.wasm")
	if err := os.WriteFile(plugin, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "wasmcluster")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/wasmcluster").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wasmcluster: %v\n%s", err, out)
	}
	backend := tck.StartBackend("127.0.0.1:0")
	t.Cleanup(backend.Close)

	cmd := exec.Command(bin, "serve", plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL,
		"--workers", "1", "--control", "-", "--plugin-pool-size", "2", "--log-format", "json", "--cache-dir", filepath.Join(dir, "cache"))
	cmd.Env = append(os.Environ(), "WASMCLUSTER_CONFIG=", "XDG_CACHE_HOME="+filepath.Join(dir, "xdg"))
	addr := startLogged(t, cmd)
	tck.Run(t, http.DefaultClient, "http://"+addr)
}

// startLogged starts cmd and returns the address from its "serving" log
// line; the process is stopped with SIGTERM when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	addrc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" && rec.Addr != "" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("wasmcluster ignored SIGTERM for 15 s; log:\n%s", logs.String())
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case <-done:
		t.Fatalf("wasmcluster exited before serving; log:\n%s", logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("wasmcluster did not start within 60 s; log:\n%s", logs.String())
	}
	return ""
}
