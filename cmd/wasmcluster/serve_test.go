package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/http-wasm/http-wasm-host-go/tck"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

var client = &http.Client{Timeout: 30 * time.Second}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, string(b)
}

func TestServeHello(t *testing.T) {
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0")
	for range 3 {
		resp, body := get(t, client, s.URL()+"/any/path")
		if resp.StatusCode != 200 || body != "hello from wat\n" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	}
	if code := s.Stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0; stderr:\n%s", code, s.Log)
	}
	if !strings.Contains(s.Log.String(), `"msg":"stopped"`) {
		t.Errorf("no 'stopped' log:\n%s", s.Log)
	}
}

func TestServeIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	s := startServe(t, nil, wat(t, "hello"), "--listen", "[::1]:0")
	if !strings.HasPrefix(s.Addr, "[::1]:") {
		t.Errorf("logged addr %q, want [::1]:port", s.Addr)
	}
	if resp, body := get(t, client, s.URL()); resp.StatusCode != 200 || body != "hello from wat\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
}

// max_header_bytes reaches http.Server: an oversized header block is 431.
func TestServeMaxHeaderBytes(t *testing.T) {
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--max-header-bytes", "1KiB")
	// net/http allows 4096 bytes of slack over MaxHeaderBytes.
	resp, _ := get(t, client, s.URL(), "X-Big", strings.Repeat("a", 8<<10))
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KiB header with max 1KiB: status %d, want 431", resp.StatusCode)
	}
	resp, _ = get(t, client, s.URL(), "X-Small", "a")
	if resp.StatusCode != 200 {
		t.Errorf("small header: status %d, want 200", resp.StatusCode)
	}
}

func TestServeUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "wc.sock")
	// A stale socket file (its listener gone without unlinking) is replaced.
	testkit.StaleSocket(t, sock)

	s := startServe(t, nil, wat(t, "hello"), "--listen", "unix:"+sock)
	if s.Addr != "unix:"+sock {
		t.Errorf("logged addr %q, want unix:%s", s.Addr, sock)
	}
	uc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	resp, body := get(t, uc, "http://wasmcluster/")
	if resp.StatusCode != 200 || body != "hello from wat\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}

	// A second instance on the same live socket is refused, not a thief.
	r := runBin(t, nil, "serve", wat(t, "hello"), "--listen", "unix:"+sock)
	if r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("second serve on a live socket: exit %d; stderr:\n%s", r.code, r.stderr)
	}

	if code := s.Stop(); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, s.Log)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file left behind after stop: %v", err)
	}
}

// Without --upstream, next is the built-in 404; with it, a reverse proxy
// that sees what the plugin did to the request.
func TestServeNext(t *testing.T) {
	plugin := wat(t, "next")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Saw", r.Header.Get("X-Wasm"))
		io.WriteString(w, "backend "+r.URL.RequestURI())
	}))
	defer backend.Close()

	s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0")
	if resp, _ := get(t, client, s.URL()+"/x"); resp.StatusCode != 404 {
		t.Errorf("next without upstream: status %d, want 404", resp.StatusCode)
	}

	s = startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL)
	resp, body := get(t, client, s.URL()+"/some/path?q=1")
	if resp.StatusCode != 200 || body != "backend /some/path?q=1" || resp.Header.Get("X-Backend-Saw") != "seen" {
		t.Errorf("via upstream: %d %q, X-Backend-Saw=%q", resp.StatusCode, body, resp.Header.Get("X-Backend-Saw"))
	}
}

func TestServePluginConfig(t *testing.T) {
	plugin := wat(t, "config")
	file := testkit.TempFile(t, "guest.json", []byte(`{"from": "file"}`))
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"none", nil, nil, ""},
		{"flag", nil, []string{"--plugin-config", "from flag"}, "from flag"},
		{"env", []string{"WASMCLUSTER_PLUGIN_CONFIG=from env"}, nil, "from env"},
		{"file", nil, []string{"--plugin-config-file", file}, `{"from": "file"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServe(t, tc.env, append([]string{plugin, "--listen", "127.0.0.1:0"}, tc.args...)...)
			resp, body := get(t, client, s.URL())
			if resp.StatusCode != 200 || body != tc.want {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// SIGTERM lets an in-flight request finish, then exits 0; past
// drain_timeout the request is cut off and the exit code is 1.
func TestServeGracefulStop(t *testing.T) {
	plugin := wat(t, "next")
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" { // e.g. a worker's self-test before ready
			io.WriteString(w, "fast")
			return
		}
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "finished")
	}))
	defer backend.Close()
	defer close(release)

	t.Run("drained", func(t *testing.T) {
		s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL)
		got := make(chan string, 1)
		go func() {
			resp, err := client.Get(s.URL() + "/slow")
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- string(b)
		}()
		<-arrived
		s.Signal(os.Interrupt)
		s.WaitLog(`"msg":"stopping`) // the stop has begun while the request is held
		release <- struct{}{}        // unblocks only the held request
		if body := <-got; body != "finished" {
			t.Errorf("in-flight request during stop: %q, want finished", body)
		}
		if code := s.Wait(); code != 0 {
			t.Errorf("exit %d, want 0; stderr:\n%s", code, s.Log)
		}
	})

	t.Run("drain timeout", func(t *testing.T) {
		s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL, "--drain-timeout", "300ms")
		go client.Get(s.URL() + "/slow")
		<-arrived
		if code := s.Stop(); code != 1 {
			t.Errorf("exit %d, want 1 (request cut off); stderr:\n%s", code, s.Log)
		}
		if !strings.Contains(s.Log.String(), "drain_timeout") {
			t.Errorf("stderr does not explain the cut-off:\n%s", s.Log)
		}
	})

	t.Run("second signal", func(t *testing.T) {
		s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL)
		go client.Get(s.URL() + "/slow")
		<-arrived
		s.Signal(syscall.SIGTERM)
		s.WaitLog(`"msg":"stopping`)
		// Resend until it dies: the first signal's handler restores the
		// default action asynchronously. Without that, exiting would take
		// the 30 s drain_timeout; wait gives up after 15 s.
		go func() {
			for {
				select {
				case <-s.Exited():
					return
				case <-time.After(100 * time.Millisecond):
					s.Signal(syscall.SIGTERM)
				}
			}
		}()
		if code := s.Wait(); code == 0 {
			t.Errorf("exit 0 after a forced stop, want non-zero; stderr:\n%s", s.Log)
		}
	})
}

// The http-wasm conformance kit, end to end through the real binary: its
// guest is the plugin, its echo backend is the upstream.
func TestTCK(t *testing.T) {
	backend := tck.StartBackend("127.0.0.1:0")
	t.Cleanup(backend.Close)
	plugin := filepath.Join(t.TempDir(), "tck.wasm")
	if err := os.WriteFile(plugin, tck.GuestWASM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--upstream", backend.URL)
	tck.Run(t, client, s.URL())
}

// serve takes a Go package directory too and builds it first (the README's
// quick start). Slow (a Go guest build and compile), so not in -short.
func TestServeGoPackageDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest; skipped in -short")
	}
	s := startServe(t, nil, filepath.Join("..", "..", "examples", "hello"), "--listen", "127.0.0.1:0")
	resp, body := get(t, client, s.URL())
	if resp.StatusCode != 200 || body != "hello from wasm\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if code := s.Stop(); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, s.Log)
	}
}
