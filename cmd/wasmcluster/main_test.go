package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// These tests run the real binary, built once per test binary by the test
// kit, as a subprocess.

const testVersion = "v0.0.0-test"

func TestMain(m *testing.M) { testkit.Main(m) }

// bin is the binary under test, stamped with testVersion.
func bin(tb testing.TB) string {
	tb.Helper()
	return testkit.Wasmcluster(tb, "-ldflags=-X main.version="+testVersion)
}

type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the binary with args to completion, in testkit.Env plus env
// ("KEY=value").
func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	cmd.Env = testkit.Env(t, env...)
	stdout, stderr, code := testkit.Run(t, cmd)
	return result{stdout, stderr, code}
}

// serveCmd is `wasmcluster serve --log-format json args...` in
// testkit.Env plus env.
func serveCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin(t), append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.Env = testkit.Env(t, env...)
	return cmd
}

// startServe starts serve and returns once it serves; the end of the test
// stops it.
func startServe(t *testing.T, env []string, args ...string) *testkit.Server {
	t.Helper()
	return testkit.Start(t, serveCmd(t, env, args...))
}

// wat compiles testdata/NAME.wat and returns the path of the module.
func wat(t *testing.T, name string) string {
	t.Helper()
	return testkit.TempFile(t, name+".wasm", testkit.WATFile(t, filepath.Join("testdata", name+".wat")))
}
