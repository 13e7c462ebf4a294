package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

const fdChildEnv = "WASMCLUSTER_TEST_FD_CHILD"

// Out of file descriptors, the control socket's accept fails (EMFILE);
// once descriptors are free again, the socket answers, the connection
// that arrived meanwhile included. The exhaustion runs in a re-executed
// test binary with a low RLIMIT_NOFILE, so it starves nothing else.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if os.Getenv(fdChildEnv) != "" {
		fdPressureChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAcceptSurvivesFDExhaustion$", "-test.v")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func fdPressureChild(t *testing.T) {
	path := testkit.SocketDir(t) + "/c.sock"
	s, err := Open(path, map[string]Handler{
		CmdStatus: func(context.Context, json.RawMessage) (any, error) { return Status{PID: os.Getpid()}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan struct{})
	s.ErrorLog = slog.New(signalHandler{failed})
	go s.Serve()
	defer s.Close()

	limitFDs(t, 32)
	held := exhaustFDs(t)
	held[len(held)-1].Close() // one free descriptor, for the client's end
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial with one descriptor free: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"cmd":"status"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-failed:
	case <-time.After(30 * time.Second):
		t.Fatal("the server's accept never failed: the test did not exhaust descriptors")
	}
	for _, f := range held[:len(held)-1] {
		f.Close()
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, `"ok":true`) {
		t.Fatalf("the connection made while out of descriptors: %q, %v", line, err)
	}
	if st, err := QueryStatus(t.Context(), path); err != nil || st.PID != os.Getpid() {
		t.Fatalf("status after the pressure: %+v, %v", st, err)
	}
}

// limitFDs lowers this process's soft RLIMIT_NOFILE to what is open now
// plus spare.
func limitFDs(t *testing.T, spare uint64) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = uint64(len(ents)) + spare
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// exhaustFDs opens /dev/null until the process is out of descriptors.
func exhaustFDs(t *testing.T) []*os.File {
	var held []*os.File
	for range 1 << 16 {
		f, err := os.Open(os.DevNull)
		if errors.Is(err, syscall.EMFILE) {
			return held
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, f)
	}
	t.Fatal("RLIMIT_NOFILE did not bite")
	return nil
}

// signalHandler closes its channel at the first record logged.
type signalHandler struct{ ch chan struct{} }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(context.Context, slog.Record) error {
	select {
	case <-h.ch:
	default:
		close(h.ch)
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }
