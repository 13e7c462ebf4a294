package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds on a child process, far above what a healthy one needs on a
// loaded machine: they turn a hang into a failure with the child's log.
const (
	startBound = 60 * time.Second // start → "serving"; Run's start → exit
	stopBound  = 15 * time.Second // SIGTERM → exit
)

var binaries memo[string]

// Wasmcluster returns the wasmcluster binary built from ./cmd/wasmcluster
// with flags (e.g. "-ldflags=-X main.version=v0.0.0-test"), once per test
// binary and flags, into the run directory (see Main).
func Wasmcluster(tb testing.TB, flags ...string) string {
	tb.Helper()
	goTool := Require(tb, "go")
	dir := Dir(tb)
	key := strings.Join(flags, "\x00")
	path, err := binaries.get(key, func() (string, error) {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256([]byte(key))
		out := filepath.Join(dir, "bin", hex.EncodeToString(sum[:6]), "wasmcluster")
		args := append(append([]string{"build"}, flags...), "-o", out, "./cmd/wasmcluster")
		cmd := exec.Command(goTool, args...)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
		}
		return out, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// Server is a running wasmcluster (or any process that logs a JSON
// {"msg":"serving","addr":...} record once it serves).
type Server struct {
	Cmd  *exec.Cmd
	Addr string  // as logged: host:port, or unix:/path
	Log  *Buffer // the process's stderr so far

	tb   testing.TB
	done chan struct{} // closed once the process has exited
}

// Start starts cmd, typically `wasmcluster serve --log-format json ...`
// with Env, and returns once its stderr holds the "serving" record. It
// fails the test if the process exits first or does not serve within a
// minute. cmd gets its own process group, so that anything it spawned
// (workers) can be killed with it. When the test ends the process gets
// SIGTERM; not exiting within 15 s is an error. Then its group is killed.
func Start(tb testing.TB, cmd *exec.Cmd) *Server {
	tb.Helper()
	addrc := make(chan string, 1)
	s := launch(tb, cmd, func(line []byte) {
		if addr := servingAddr(line); addr != "" {
			select {
			case addrc <- addr:
			default: // only the first one matters
			}
		}
	})
	return s.await(addrc)
}

// Launch starts cmd as Start does, with the same stop at the end of the
// test, but returns at once, without an address: for a process that logs
// no serving record (at a quieter log level), or a benchmark that times
// its start itself.
func Launch(tb testing.TB, cmd *exec.Cmd) *Server {
	tb.Helper()
	return launch(tb, cmd, func([]byte) {})
}

// StartLogFile is Start for a process that logs to logFile (--log-file):
// it waits for the "serving" record in that file.
func StartLogFile(tb testing.TB, cmd *exec.Cmd, logFile string) *Server {
	tb.Helper()
	s := Launch(tb, cmd)
	addrc := make(chan string, 1)
	go func() {
		for {
			b, _ := os.ReadFile(logFile)
			for line := range strings.SplitSeq(string(b), "\n") {
				if addr := servingAddr([]byte(line)); addr != "" {
					addrc <- addr
					return
				}
			}
			select {
			case <-s.done:
				return
			case <-time.After(pollEvery):
			}
		}
	}()
	return s.await(addrc)
}

// servingAddr returns the address of a JSON "serving" log record, or "".
func servingAddr(line []byte) string {
	var rec struct{ Msg, Addr string }
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "serving" {
		return ""
	}
	return rec.Addr
}

// launch starts cmd with its stderr going to the log and to onLine, and
// arranges the stop at the end of the test.
func launch(tb testing.TB, cmd *exec.Cmd, onLine func([]byte)) *Server {
	tb.Helper()
	s := &Server{Cmd: cmd, Log: &Buffer{}, tb: tb, done: make(chan struct{})}
	cmd.Stderr = &lineWriter{onLine: func(line []byte) {
		s.Log.Write(append(line, '\n'))
		onLine(line)
	}}
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	tb.Cleanup(func() {
		s.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopBound):
			tb.Errorf("%s did not stop within %v of SIGTERM; log:\n%s", cmd.Path, stopBound, s.Log)
		}
		killGroup(cmd)
		<-s.done
	})
	return s
}

// await waits for the serving address.
func (s *Server) await(addrc <-chan string) *Server {
	s.tb.Helper()
	select {
	case s.Addr = <-addrc:
		return s
	case <-s.done:
		s.tb.Fatalf("%s exited with %d before serving; log:\n%s", s.Cmd.Path, s.Cmd.ProcessState.ExitCode(), s.Log)
	case <-time.After(startBound):
		s.tb.Fatalf("%s did not serve within %v; log:\n%s", s.Cmd.Path, startBound, s.Log)
	}
	return nil
}

// URL is the base URL of a server listening on TCP.
func (s *Server) URL() string { return "http://" + s.Addr }

// Exited is closed once the process has exited.
func (s *Server) Exited() <-chan struct{} { return s.done }

// Signal sends sig to the process unless it has exited.
func (s *Server) Signal(sig os.Signal) {
	select {
	case <-s.done:
	default:
		s.Cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM and returns the exit code (see Wait).
func (s *Server) Stop() int {
	s.tb.Helper()
	s.Signal(syscall.SIGTERM)
	return s.Wait()
}

// Wait waits for the process to exit, failing the test after 15 s, and
// returns its exit code: -1 if a signal ended it.
func (s *Server) Wait() int {
	s.tb.Helper()
	select {
	case <-s.done:
	case <-time.After(stopBound):
		s.tb.Fatalf("%s did not exit within %v; log:\n%s", s.Cmd.Path, stopBound, s.Log)
	}
	return s.Cmd.ProcessState.ExitCode()
}

// WaitLog waits until the log contains substr, failing the test after 15 s.
func (s *Server) WaitLog(substr string) {
	s.tb.Helper()
	deadline := time.Now().Add(stopBound)
	for !strings.Contains(s.Log.String(), substr) {
		if time.Now().After(deadline) {
			s.tb.Fatalf("no %q in the log of %s within %v:\n%s", substr, s.Cmd.Path, stopBound, s.Log)
		}
		time.Sleep(pollEvery)
	}
}

// StartFunc runs run in a goroutine, as Start runs a process, for a server
// in the test's own process (a primary, an instance) whose run blocks until
// its context is cancelled. It returns once ready is closed (by the
// server's ready callback), failing the test if run returns first or ready
// is not closed within a minute; what names the server in these failures.
// When the test ends, the context is cancelled: an error from run, or run
// not returning within a minute, is a test error.
func StartFunc(tb testing.TB, what string, ready <-chan struct{}, run func(context.Context) error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err, ok := <-done:
			if ok && err != nil {
				tb.Errorf("%s: %v", what, err)
			}
		case <-time.After(startBound):
			tb.Errorf("%s did not return within %v of its cancel", what, startBound)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		close(done) // reported here, not again at the cleanup
		tb.Fatalf("%s returned before it was ready: %v", what, err)
	case <-time.After(startBound):
		tb.Fatalf("%s not ready within %v", what, startBound)
	}
}

// ownGroup puts cmd in a process group of its own, so that anything it
// spawns can be killed with it, and bounds its Wait: a child process still
// holding stdout or stderr must not keep Wait from returning.
func ownGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 2 * time.Second
	}
}

// killGroup kills cmd's process group: cmd and anything it left behind.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Run runs cmd to completion in a process group of its own, kills what it
// left behind, and returns its stdout, stderr and exit code. Not finishing
// within a minute, or not running at all, fails the test; an exit code
// other than 0 is the caller's to judge.
func Run(tb testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	tb.Helper()
	var out, errOut Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(startBound):
		killGroup(cmd)
		<-done
		tb.Fatalf("%s did not finish within %v; stderr:\n%s", cmd.Path, startBound, &errOut)
	}
	killGroup(cmd)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && !errors.Is(err, exec.ErrWaitDelay) {
		tb.Fatalf("run %s: %v", cmd.Path, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}
