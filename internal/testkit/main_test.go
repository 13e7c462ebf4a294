package testkit

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Require, the wait helpers and Start end a failing test with Skip or
// Fatal, which a test cannot observe in itself: TestChildProcess runs one
// such behaviour, chosen by TESTKIT_CHILD, in a child test binary, and the
// tests below check its outcome in the child's output.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv("TESTKIT_CHILD")
	if mode == "" {
		t.Skip("runs only as a child of the tests below")
	}
	switch mode {
	case "require":
		Require(t, "wat2wasm")
	case "waitfor":
		WaitFor(t, 0, "the moon", func() bool { return false })
	case "eventually":
		Eventually(t, 0, func() error { return errors.New("still 3 jobs") })
	case "exit-early":
		Start(t, exec.Command("sh", "-c", "echo boom >&2; exit 3"))
	default:
		t.Fatalf("unknown TESTKIT_CHILD %q", mode)
	}
	t.Log("child: returned normally")
}

// runChild runs TestChildProcess in mode with env added and returns its
// verbose output and whether it passed.
func runChild(t *testing.T, mode string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.v")
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
