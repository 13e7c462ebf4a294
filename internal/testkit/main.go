package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The run directory holds what outlives a single test but not the test
// binary: the wasmcluster binary, the cache home of the processes tests
// start, shared compilation caches. Main creates nothing up front; it
// removes the directory when the tests are done.
var run struct {
	mu   sync.Mutex
	main bool // Main is running the tests
	dir  string
}

// Main runs the package's tests and then removes the run directory. A
// package whose tests use Dir, Env or Wasmcluster calls it from TestMain:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	run.mu.Lock()
	run.main = true
	run.mu.Unlock()
	code := m.Run()
	run.mu.Lock()
	if run.dir != "" {
		os.RemoveAll(run.dir)
	}
	run.mu.Unlock()
	os.Exit(code)
}

// Dir returns the run directory, shared by every test of the binary and
// removed by Main when they are done.
func Dir(tb testing.TB) string {
	tb.Helper()
	run.mu.Lock()
	defer run.mu.Unlock()
	if !run.main {
		tb.Fatal("testkit: the run directory needs the package's TestMain to call testkit.Main(m), which removes it")
	}
	if run.dir == "" {
		d, err := os.MkdirTemp("", "testkit-run-")
		if err != nil {
			tb.Fatal(err)
		}
		run.dir = d
	}
	return run.dir
}

// CacheHome is the XDG_CACHE_HOME Env gives child processes: the default
// cache directories of wasmcluster (plugin store, builds, compilation
// cache) land below it, inside the run directory.
func CacheHome(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(Dir(tb), "cache")
}

// SocketDir returns a new directory for unix sockets, removed when the test
// ends. A socket's path is limited to 108 bytes, which a path below
// t.TempDir (named after the test) can exceed, so this one is short:
// directly in the system's temp dir.
func SocketDir(tb testing.TB) string {
	tb.Helper()
	d, err := os.MkdirTemp("", "tk")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// StaleSocket leaves a unix socket file at path with nothing listening on
// it: what a server killed without unlinking its socket leaves behind.
func StaleSocket(tb testing.TB, path string) {
	tb.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
}

var goCache memo[string]

// Env is the environment for a wasmcluster child process: this process's
// without the developer's WASMCLUSTER_* settings (a config file, a
// control socket), XDG_CACHE_HOME set to CacheHome, GOCACHE pinned to the
// real Go build cache (moving XDG_CACHE_HOME would move it too, and a
// plugin build would start cold), XDG_STATE_HOME set to a directory of the
// test's own (the embedded store's data), then extra ("KEY=value", later
// wins).
func Env(tb testing.TB, extra ...string) []string {
	tb.Helper()
	goTool := Require(tb, "go")
	gocache, err := goCache.get("", func() (string, error) {
		out, err := exec.Command(goTool, "env", "GOCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("go env GOCACHE: %w", err)
		}
		return strings.TrimSpace(string(out)), nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WASMCLUSTER_") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") && !strings.HasPrefix(kv, "GOCACHE=") &&
			!strings.HasPrefix(kv, "XDG_STATE_HOME=") && !strings.HasPrefix(kv, "STATE_DIRECTORY=") {
			env = append(env, kv)
		}
	}
	// A state directory of the test's own: the embedded key-value store
	// keeps its data there (kv.dir's default), and two servers must not
	// share one by accident.
	env = append(env, "XDG_CACHE_HOME="+CacheHome(tb), "GOCACHE="+gocache, "XDG_STATE_HOME="+tb.TempDir())
	return append(env, extra...)
}

// modulePath is the module whose root ModuleRoot finds.
const modulePath = "github.com/wasmcluster/wasmcluster"

// ModuleRoot returns the repository's root directory: the nearest
// directory above the test's working directory (its package directory)
// whose go.mod declares the wasmcluster module.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			sc.Scan()
			f.Close()
			if strings.TrimSpace(sc.Text()) == "module "+modulePath {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testkit: no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}
