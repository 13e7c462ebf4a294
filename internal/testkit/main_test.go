package testkit

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Require, the wait helpers and Start end a failing test with Skip or
// Fatal, which a test cannot observe in itself. A test of that runs itself
// again in a child test binary with TESTKIT_CHILD set to the behaviour to
// show (childMode), and checks the outcome in the child's output.
func childMode() string { return os.Getenv("TESTKIT_CHILD") }

// runChild runs the current test in a child process with TESTKIT_CHILD=mode
// and env added, and returns its verbose output and whether it passed.
func runChild(t *testing.T, mode string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), "TESTKIT_CHILD="+mode), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("child %s: %v", mode, err)
	}
	return string(out), err == nil
}

// wantChild checks that the child passed or failed, and said each of want.
func wantChild(t *testing.T, out string, passed, wantPass bool, want ...string) {
	t.Helper()
	if passed != wantPass {
		t.Errorf("child passed = %v, want %v", passed, wantPass)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("child output lacks %q:\n%s", w, out)
		}
	}
}

// SocketDir is short enough for a socket path and gone after the test.
func TestSocketDir(t *testing.T) {
	var dir string
	t.Run("use", func(t *testing.T) {
		dir = SocketDir(t)
		// 108 bytes for the whole path, a socket name of a few included.
		if len(dir) > 80 {
			t.Errorf("%s: %d bytes, too long for socket paths", dir, len(dir))
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("not a directory: %v", err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s after the test: %v, want it removed", dir, err)
	}
}

// StaleSocket leaves a socket file that refuses connections.
func TestStaleSocket(t *testing.T) {
	path := filepath.Join(SocketDir(t), "s.sock")
	StaleSocket(t, path)
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("%s: %v, want a socket file", path, err)
	}
	if c, err := net.Dial("unix", path); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial %s: %v, want connection refused", path, err)
	}
}
