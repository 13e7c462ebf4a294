package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
)

// Each example and the wasmcluster binary are built once per test binary
// (a Go build takes seconds here) into tmpDir and reused by every test.
var (
	tmpDir  string
	buildMu sync.Mutex
	built   = map[string]string{} // example -> .wasm path
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "examples-test-*")
	if err != nil {
		panic(err)
	}
	tmpDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// example returns the module file of the named example, building it once.
func example(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var path string
	if strings.HasPrefix(name, "wat-") {
		if _, err := exec.LookPath("wat2wasm"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("wat2wasm not found (install wabt)")
			}
			t.Skip("wat2wasm not found (Debian package wabt); CI must have it")
		}
		src, _ := filepath.Glob(filepath.Join(name, "*.wat"))
		if len(src) != 1 {
			t.Fatalf("%s: want one .wat file, have %v", name, src)
		}
		path = filepath.Join(tmpDir, name+".wasm")
		if out, err := exec.CommandContext(ctx, "wat2wasm", src[0], "-o", path).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %s: %v\n%s", src[0], err, out)
		}
	} else {
		res, err := gobuild.Build(ctx, name, gobuild.Options{CacheDir: filepath.Join(tmpDir, "build")})
		if err != nil {
			t.Fatal(err)
		}
		path = res.Path
	}
	built[name] = path
	return path
}

// wasmcluster returns the path of the wasmcluster binary, built once.
func wasmcluster(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binPath == "" && binErr == nil {
		p := filepath.Join(tmpDir, "wasmcluster")
		out, err := exec.Command("go", "build", "-o", p, "../cmd/wasmcluster").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/wasmcluster: %v\n%s", err, out)
		} else {
			binPath = p
		}
	}
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
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
		CacheDir:    filepath.Join(tmpDir, "cache"), // shared with the binary: warms its cache
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
	args := []string{"serve", wasmPath, "--listen", "127.0.0.1:0", "--log-format", "json",
		"--upstream", upstreamURL, "--cache-dir", filepath.Join(tmpDir, "cache"),
		"--workers", "1", "--control", "-", "--plugin-pool-size", "1"}
	if guestConfig != "" {
		args = append(args, "--plugin-config", guestConfig)
	}
	cmd := exec.Command(wasmcluster(t), args...)
	// Keep every cache (builds, snapshots) inside the test's temp dir.
	cmd.Env = append(os.Environ(), "WASMCLUSTER_CONFIG=", "XDG_CACHE_HOME="+filepath.Join(tmpDir, "xdg"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var logs strings.Builder
	addrc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
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
	output := func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() }
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("wasmcluster serve ignored SIGTERM for 15 s; log:\n%s", output())
		}
	})
	select {
	case addr := <-addrc:
		return "http://" + strings.TrimPrefix(addr, "http://")
	case <-done:
		t.Fatalf("wasmcluster serve exited before serving; log:\n%s", output())
	case <-time.After(60 * time.Second):
		t.Fatalf("wasmcluster serve did not start within 60 s; log:\n%s", output())
	}
	return ""
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
