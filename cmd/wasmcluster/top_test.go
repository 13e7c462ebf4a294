package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux not found; CI=true, so not skipping")
		}
		t.Skip("tmux not found (apt-get install tmux)")
	}
	dir := shortDir(t)
	sock := filepath.Join(dir, "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock, "--admin", "off")
	st := statusOf(t, sock)

	tsock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) (string, error) {
		cmd := exec.Command("tmux", append([]string{"-S", tsock}, args...)...)
		cmd.Env = testEnv("TERM=xterm-256color")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "30",
		binPath+" top --interval 200ms --control "+sock); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { tmux("kill-server") })

	// Some traffic so rates show up.
	for range 20 {
		get(t, &http.Client{}, s.url())
	}
	var screen string
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := tmux("capture-pane", "-p", "-t", "top")
		if err != nil {
			t.Fatalf("capture-pane: %v: %s", err, out)
		}
		screen = out
		all := strings.Contains(screen, "REQ/S") && strings.Contains(screen, "P99")
		for _, w := range st.Workers {
			all = all && strings.Contains(screen, strconv.Itoa(w.PID))
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("top never showed every worker %v:\n%s", st.Workers, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := tmux("has-session", "-t", "top"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			out, _ := tmux("capture-pane", "-p", "-t", "top")
			t.Fatalf("top still running 10 s after q:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
