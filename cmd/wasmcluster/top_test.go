package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

func TestQuantileDelta(t *testing.T) {
	n := len(control.LatencyBounds) + 1
	b := func(pairs ...int) []uint64 {
		out := make([]uint64, n)
		for i := 0; i < len(pairs); i += 2 {
			out[pairs[i]] = uint64(pairs[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		before, after []uint64
		want          string
	}{
		{b(), b(), "-"},
		{nil, b(0, 100), "<=500µs"},
		{b(0, 50), b(0, 59, 3, 1), "<=5ms"},    // 10 new: p99 rank 10 is in bucket 3
		{b(0, 50), b(0, 250, 3, 1), "<=500µs"}, // 201 new: p99 rank 199 is in bucket 0
		{b(), b(n-1, 1), ">30s"},               // +Inf bucket
		{b(2, 10), b(2, 10, 5, 0), "-"},        // nothing new
	} {
		if got := quantileDelta(tc.before, tc.after, 0.99); got != tc.want {
			t.Errorf("quantileDelta(%v, %v) = %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}

// `wasmcluster top` in a real terminal (tmux): every worker shows up, and
// q quits.
func TestTopInTmux(t *testing.T) {
	tmux := newTmux(t)
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock, "--admin", "off")
	st := statusOf(t, sock)
	if out, err := tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "30",
		bin(t)+" top --interval 200ms --control "+sock); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}

	// Some traffic so rates show up.
	for range 20 {
		get(t, &http.Client{}, s.URL())
	}
	var screen string
	testkit.Eventually(t, 15*time.Second, func() error {
		out, err := tmux("capture-pane", "-p", "-t", "top")
		if err != nil {
			t.Fatalf("capture-pane: %v: %s", err, out)
		}
		screen = out
		all := strings.Contains(screen, "REQ/S") && strings.Contains(screen, "P99")
		for _, w := range st.Workers {
			all = all && strings.Contains(screen, strconv.Itoa(w.PID))
		}
		if !all {
			return fmt.Errorf("top never showed every worker %v:\n%s", st.Workers, screen)
		}
		return nil
	})
	for _, w := range st.Workers {
		found := false
		for line := range strings.SplitSeq(screen, "\n") {
			f := strings.Fields(line)
			found = found || len(f) > 2 && f[0] == strconv.Itoa(w.ID) && f[1] == strconv.Itoa(w.PID) && f[2] == "ready"
		}
		if !found {
			t.Errorf("no row for worker %d (pid %d):\n%s", w.ID, w.PID, screen)
		}
	}
	if out, err := tmux("send-keys", "-t", "top", "q"); err != nil {
		t.Fatalf("send-keys: %v: %s", err, out)
	}
	// top exits, so its window and the session close.
	testkit.Eventually(t, 10*time.Second, func() error {
		if _, err := tmux("has-session", "-t", "top"); err == nil {
			out, _ := tmux("capture-pane", "-p", "-t", "top")
			return fmt.Errorf("top still running after q:\n%s", out)
		}
		return nil
	})
}

// newTmux returns a runner of tmux commands against a tmux server of the
// test's own, on a private socket and killed when the test ends; its panes
// get testkit.Env plus env and a terminal type.
func newTmux(t *testing.T, env ...string) func(args ...string) (string, error) {
	t.Helper()
	tool := testkit.Require(t, "tmux")
	sock := filepath.Join(testkit.SocketDir(t), "tmux.sock")
	env = append([]string{"TERM=xterm-256color"}, env...)
	tmux := func(args ...string) (string, error) {
		cmd := exec.Command(tool, append([]string{"-S", sock}, args...)...)
		cmd.Env = testkit.Env(t, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tmux("kill-server") })
	return tmux
}
