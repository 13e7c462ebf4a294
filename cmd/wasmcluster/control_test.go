package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// Tests of the control-socket resolver of status, top and reload
// (control.go), against real control sockets: in-process primaries of
// this test process.

type okPlugin struct{}

func (okPlugin) ServeHTTP(w http.ResponseWriter, _ *http.Request) {}
func (okPlugin) Close(context.Context) error                      { return nil }

// startInstance runs an in-process primary with its control socket at
// sock until the test ends; it returns the address it serves.
func startInstance(t *testing.T, sock string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	opts := workers.PrimaryOptions{
		Listener: ln, Workers: workers.InProcess, ControlPath: sock, IgnoreSignals: true,
		Logger: slog.New(slog.DiscardHandler), OnReady: func(net.Addr) { close(ready) },
		Load: func(context.Context, workers.Spec) (httpserve.Plugin, error) { return okPlugin{}, nil },
	}
	testkit.StartFunc(t, "instance at "+sock, ready, func(ctx context.Context) error { return workers.RunPrimary(ctx, opts) })
	return ln.Addr().String()
}

// runtimeDir points the default control socket into a fresh directory
// and returns the default path.
func runtimeDir(t *testing.T) string {
	t.Setenv("XDG_RUNTIME_DIR", testkit.SocketDir(t))
	return control.DefaultPath()
}

func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == exitUsage
}

func TestPickControl(t *testing.T) {
	def := runtimeDir(t)
	pick := func(control, answer string, interactive bool) (string, string, error) {
		var out strings.Builder
		path, err := pickControl(t.Context(), control, strings.NewReader(answer), &out, interactive)
		return path, out.String(), err
	}
	if p, _, err := pick("", "", true); p != def || err != nil {
		t.Errorf("no instance: %q, %v; want the default path %s (which then reads as not running)", p, err, def)
	}
	startInstance(t, def)
	if p, out, err := pick("", "", true); p != def || err != nil || out != "" {
		t.Errorf("one instance: %q, %v, asked %q; want it, without asking", p, err, out)
	}
	other := filepath.Join(filepath.Dir(def), "control-1.sock")
	otherAddr := startInstance(t, other)
	if p, _, err := pick("/given.sock", "", true); p != "/given.sock" || err != nil {
		t.Errorf("--control with two instances: %q, %v; want the given path", p, err)
	}

	_, _, err := pick("", "", false)
	if !isUsage(err) || !strings.Contains(err.Error(), def) || !strings.Contains(err.Error(), other) ||
		!strings.Contains(err.Error(), "--control") || !strings.Contains(err.Error(), "on "+otherAddr) {
		t.Errorf("two instances, not interactive: %v; want a usage error listing both (with their addresses) and naming --control", err)
	}
	p, out, err := pick("", "2\n", true)
	if p != other || err != nil || !strings.Contains(out, "1) "+def) || !strings.Contains(out, "2) "+other) ||
		!strings.Contains(out, "Which one (1-2)?") {
		t.Errorf("answer 2: %q, %v; want %s after a numbered list; asked:\n%s", p, err, other, out)
	}
	if p, out, err := pick("", "x\n3\n1\n", true); p != def || err != nil || strings.Count(out, "Answer a number from 1 to 2.") != 2 {
		t.Errorf("answers x, 3, 1: %q, %v; want %s after asking again twice; asked:\n%s", p, err, def, out)
	}
	if p, _, err := pick("", "", true); !isUsage(err) || p != "" {
		t.Errorf("no answer: %q, %v; want a usage error", p, err)
	}
}

// status, top and reload resolve the control socket alike: the only
// instance without --control; with several and no terminal, exit 2
// listing them.
func TestControlSocketInCommands(t *testing.T) {
	def := runtimeDir(t)
	env := []string{"XDG_RUNTIME_DIR=" + os.Getenv("XDG_RUNTIME_DIR")}
	addr := startInstance(t, def)
	r := runBin(t, env, "status", "--json")
	var st control.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.PID != os.Getpid() || st.Listen != addr {
		t.Fatalf("status with one instance: exit %d, %s\n%s", r.code, r.stdout, r.stderr)
	}

	other := filepath.Join(filepath.Dir(def), "control-1.sock")
	otherAddr := startInstance(t, other)
	for _, args := range [][]string{{"status"}, {"top"}, {"reload"}} {
		r := runBin(t, env, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "2 wasmcluster instances are running; pick one with --control") ||
			!strings.Contains(r.stderr, def) || !strings.Contains(r.stderr, other) {
			t.Errorf("%v with two instances: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
	if r := runBin(t, env, "status", "--json", "--control", other); r.code != 0 || !strings.Contains(r.stdout, otherAddr) {
		t.Errorf("status --control with two instances: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// In a terminal, status asks which instance (tmux gives it one).
func TestControlSocketPromptInTmux(t *testing.T) {
	def := runtimeDir(t)
	tmux := newTmux(t, "XDG_RUNTIME_DIR="+os.Getenv("XDG_RUNTIME_DIR"))
	startInstance(t, def)
	other := filepath.Join(filepath.Dir(def), "control-1.sock")
	otherAddr := startInstance(t, other)

	// The shell keeps the pane open after status exits, for capture-pane.
	if out, err := tmux("new-session", "-d", "-s", "pick", "-x", "200", "-y", "30",
		"sh -c '"+bin(t)+" status; echo exit=$?; sleep 60'"); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	screen := func(want string) string {
		t.Helper()
		var out string
		testkit.Eventually(t, 15*time.Second, func() error {
			var err error
			if out, err = tmux("capture-pane", "-p", "-t", "pick"); err != nil {
				t.Fatalf("capture-pane: %v: %s", err, out)
			}
			if !strings.Contains(out, want) {
				return fmt.Errorf("no %q on the screen:\n%s", want, out)
			}
			return nil
		})
		return out
	}
	s := screen("Which one (1-2)?")
	if !strings.Contains(s, "1) "+def) || !strings.Contains(s, "2) "+other) {
		t.Fatalf("the prompt does not list both instances:\n%s", s)
	}
	if out, err := tmux("send-keys", "-t", "pick", "2", "Enter"); err != nil {
		t.Fatalf("send-keys: %v: %s", err, out)
	}
	want := fmt.Sprintf("wasmcluster pid %d on %s, up", os.Getpid(), otherAddr)
	if s := screen("exit="); !strings.Contains(s, "exit=0") || !strings.Contains(s, want) {
		t.Fatalf("after answering 2: want the status of the instance on %s, exit 0:\n%s", otherAddr, s)
	}
}
