package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// shServer is a stand-in server: it starts a child that ignores SIGTERM,
// logs the child's pid and a "serving" record, and waits.
const shServer = `trap '' TERM; sleep 600 & trap - TERM
echo "{\"msg\":\"child\",\"pid\":$!}" >&2
echo '{"msg":"serving","addr":"127.0.0.1:9"}' >&2
wait`

// Start returns the logged address; the end of the test stops the process
// and kills what it left behind in its group.
func TestStartStopsProcessGroup(t *testing.T) {
	var child int
	t.Run("serve", func(t *testing.T) {
		s := Start(t, exec.Command("sh", "-c", shServer))
		if s.Addr != "127.0.0.1:9" || s.URL() != "http://127.0.0.1:9" {
			t.Errorf("Addr %q, URL %q", s.Addr, s.URL())
		}
		s.WaitLog(`"msg":"child"`)
		var rec struct{ PID int }
		json.Unmarshal([]byte(strings.SplitN(s.Log.String(), "\n", 2)[0]), &rec)
		if child = rec.PID; child == 0 {
			t.Fatalf("no child pid in the log:\n%s", s.Log)
		}
		if code := s.Stop(); code != -1 {
			t.Errorf("exit code %d after SIGTERM, want -1 (killed by the signal)", code)
		}
		if !alive(child) {
			t.Fatal("the child died with its parent; the group kill is left untested")
		}
	})
	WaitFor(t, time.Minute, "the server's child to be killed with its group", func() bool { return !alive(child) })
}

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}

// A process that exits before serving fails the test with its log.
func TestStartExitEarly(t *testing.T) {
	if childMode() == "exit-early" {
		Start(t, exec.Command("sh", "-c", "echo boom >&2; exit 3"))
		return
	}
	out, passed := runChild(t, "exit-early")
	wantChild(t, out, passed, false, "exited with 3 before serving", "boom")
}

// The real binary, built once, serves a HelloWAT guest and stops cleanly.
func TestWasmcluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wasmcluster binary")
	}
	before := binaries.runs.Load()
	bin := Wasmcluster(t)
	if again := Wasmcluster(t); again != bin || binaries.runs.Load()-before > 1 {
		t.Errorf("built twice: %s, %s", bin, again)
	}
	plugin := TempFile(t, "hello.wasm", HelloWAT(t, "hello from wat\n"))
	cmd := exec.Command(bin, "serve", plugin, "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--log-format", "json")
	cmd.Env = Env(t)
	s := Start(t, cmd)
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from wat\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if code := s.Stop(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; log:\n%s", code, s.Log)
	}
}

// StartLogFile finds the serving record in the file the process logs to.
func TestStartLogFile(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "log")
	script := `sleep 0.2; echo '{"msg":"serving","addr":"127.0.0.1:7"}' >> "$1"; exec sleep 600`
	s := StartLogFile(t, exec.Command("sh", "-c", script, "sh", logFile), logFile)
	if s.Addr != "127.0.0.1:7" {
		t.Errorf("Addr %q", s.Addr)
	}
}

// Run returns both outputs and the exit code, and kills what the command
// left running in its group.
func TestRun(t *testing.T) {
	script := `sleep 600 & echo "$!"; echo err >&2; exit 4`
	stdout, stderr, code := Run(t, exec.Command("sh", "-c", script))
	if stderr != "err\n" || code != 4 {
		t.Errorf("stderr %q, exit code %d; want \"err\\n\", 4", stderr, code)
	}
	child, err := strconv.Atoi(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	WaitFor(t, time.Minute, "the command's child to be killed with its group", func() bool { return !alive(child) })
}

// Launch returns before any serving record, and the end of the test stops
// the process all the same.
func TestLaunch(t *testing.T) {
	var s *Server
	t.Run("launch", func(t *testing.T) {
		s = Launch(t, exec.Command("sleep", "600"))
		if s.Addr != "" {
			t.Errorf("Addr %q before any serving record", s.Addr)
		}
	})
	select {
	case <-s.Exited():
	default:
		t.Error("the launched process still runs after its test ended")
	}
}

// StartFunc returns once the server is ready, and the end of the test
// cancels it and waits for it to return.
func TestStartFunc(t *testing.T) {
	var returned atomic.Bool
	t.Run("serve", func(t *testing.T) {
		ready := make(chan struct{})
		StartFunc(t, "server", ready, func(ctx context.Context) error {
			close(ready)
			<-ctx.Done()
			returned.Store(true)
			return nil
		})
		if returned.Load() {
			t.Error("run returned before the test ended")
		}
	})
	if !returned.Load() {
		t.Error("run had not returned when the test ended")
	}
}

// A server that returns before it is ready fails the test with its error;
// so does one that returns an error when cancelled.
func TestStartFuncFails(t *testing.T) {
	switch childMode() {
	case "early":
		StartFunc(t, "server", nil, func(context.Context) error { return errors.New("boom") })
		return
	case "stop":
		ready := make(chan struct{})
		StartFunc(t, "server", ready, func(ctx context.Context) error {
			close(ready)
			<-ctx.Done()
			return errors.New("bad stop")
		})
		return
	}
	out, passed := runChild(t, "early")
	wantChild(t, out, passed, false, "server returned before it was ready: boom")
	out, passed = runChild(t, "stop")
	wantChild(t, out, passed, false, "server: bad stop")
}
