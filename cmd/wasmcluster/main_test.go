package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary, built once by TestMain, as a subprocess.

const testVersion = "v0.0.0-test"

var (
	binPath  string // the wasmcluster binary under test
	cacheDir string // XDG_CACHE_HOME for every run: the default cache_dir lands here
	goCache  string // the real GOCACHE, kept so Go guest builds stay warm
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wasmcluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "wasmcluster")
	cacheDir = filepath.Join(dir, "cache")
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env GOCACHE:", err)
		return 1
	}
	goCache = strings.TrimSpace(string(out))
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		return 1
	}
	return m.Run()
}

// testEnv is the environment for the binary: ours minus any WASMCLUSTER_*
// setting of the developer's shell, plus extra ("KEY=value").
func testEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WASMCLUSTER_") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	// Redirecting XDG_CACHE_HOME would also move Go's build cache: pin it.
	env = append(env, "XDG_CACHE_HOME="+cacheDir, "GOCACHE="+goCache)
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the binary to completion (bounded at 60 s).
func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = testEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	groupAndWaitDelay(cmd)
	err := cmd.Run()
	killGroup(cmd)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// server is a running `wasmcluster serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string // as logged: host:port or unix:/path
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts `serve` with JSON logs and waits until it logs that it
// is serving. The process is stopped (SIGTERM) at the end of the test.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.Env = testEnv(env...)
	s := &server{t: t, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	addrc := make(chan string, 1)
	cmd.Stderr = &lineWriter{onLine: func(line []byte) {
		s.stderr.Write(append(line, '\n'))
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "serving" && rec.Addr != "" {
			select {
			case addrc <- rec.Addr:
			default: // only the first one matters
			}
		}
	}}
	groupAndWaitDelay(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15 s of SIGTERM; stderr:\n%s", s.stderr)
		}
		killGroup(cmd)
		<-s.done
	})
	select {
	case s.addr = <-addrc:
		return s
	case <-s.done:
		t.Fatalf("serve exited with %d before serving; stderr:\n%s", cmd.ProcessState.ExitCode(), s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start within 60 s; stderr:\n%s", s.stderr)
	}
	return nil
}

// groupAndWaitDelay puts cmd in its own process group, so anything it
// spawned can be killed with it, and bounds Wait: a child process still
// holding stdout/stderr must not keep Wait from returning.
func groupAndWaitDelay(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
}

// killGroup kills cmd's process group (cmd and anything it left behind).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// lineWriter calls onLine for each complete line written to it.
type lineWriter struct {
	buf    []byte
	onLine func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.onLine(w.buf[:i:i])
		w.buf = w.buf[i+1:]
	}
}

func (s *server) signal(sig os.Signal) {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop() int {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
	return s.wait()
}

// wait waits (bounded) for the process to exit and returns the exit code, -1
// if a signal ended it.
func (s *server) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.t.Fatalf("serve did not exit within 15 s; stderr:\n%s", s.stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// waitLog waits (bounded) until stderr contains substr.
func (s *server) waitLog(substr string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.stderr.String(), substr) {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q in stderr within 15 s:\n%s", substr, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// url is the server's base URL (TCP only).
func (s *server) url() string { return "http://" + s.addr }

// wat compiles testdata/NAME.wat with wat2wasm into a temp dir. Without
// wat2wasm the test is skipped, unless CI=true (CI installs wabt).
func wat(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("wat2wasm not found (install wabt); CI=true, so not skipping")
		}
		t.Skip("wat2wasm not found (install wabt)")
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	cmd := exec.Command("wat2wasm", filepath.Join("testdata", name+".wat"), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, b)
	}
	return out
}

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
