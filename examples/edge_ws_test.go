package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// edgeServer is auth-middleware served by the binary with two workers,
// a control socket and an admin listener, in front of up.
type edgeServer struct {
	*testkit.Server
	sock, admin string
}

func serveEdge(t testing.TB, plugin, up string, extra ...string) *edgeServer {
	t.Helper()
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	args := append([]string{"serve", plugin, "--listen", "127.0.0.1:0", "--log-format", "json",
		"--upstream", up, "--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "2",
		"--plugin-pool-size", "2", "--control", sock, "--admin", "127.0.0.1:0", "--plugin-config", authToken}, extra...)
	cmd := exec.Command(testkit.Wasmcluster(t), args...)
	cmd.Env = testkit.Env(t)
	s := testkit.Start(t, cmd)
	s.WaitLog(`"msg":"admin listening"`)
	e := &edgeServer{Server: s, sock: sock}
	for line := range strings.SplitSeq(s.Log.String(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "admin listening" {
			e.admin = rec.Addr
		}
	}
	return e
}

// status is `wasmcluster status --json`.
func (e *edgeServer) status(t *testing.T) control.Status {
	t.Helper()
	cmd := exec.Command(testkit.Wasmcluster(t), "status", "--json", "--control", e.sock)
	cmd.Env = testkit.Env(t)
	out, stderr, code := testkit.Run(t, cmd)
	var st control.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: exit %d: %s %s", code, out, stderr)
	}
	return st
}

// upgraded sums the /metrics series of upgraded connections: open now,
// and opened in all.
func (e *edgeServer) upgraded(t *testing.T) (open, total int) {
	t.Helper()
	resp, err := http.Get("http://" + e.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		name, rest, _ := strings.Cut(line, "{")
		_, val, _ := strings.Cut(rest, "} ")
		n, _ := strconv.Atoi(val)
		switch name {
		case "wasmcluster_upgraded_connections":
			open += n
		case "wasmcluster_upgraded_connections_total":
			total += n
		}
	}
	return open, total
}

// chat sends messages of varied size and type on c and checks each echo
// until the time is up; it returns how many came back. (A context that
// ends closes a coder/websocket connection: ctx is the socket's life.)
func chat(ctx context.Context, c *websocket.Conn, id int, until time.Time) (int, error) {
	n := 0
	for ; time.Now().Before(until); n++ {
		typ, msg := websocket.MessageText, []byte(fmt.Sprintf("socket %d message %d %s", id, n, strings.Repeat("x", n%4096)))
		if n%3 == 0 {
			typ, msg = websocket.MessageBinary, append([]byte{0, 1, byte(n)}, msg...)
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return n, fmt.Errorf("write %d: %w", n, err)
		}
		gotTyp, got, err := c.Read(ctx)
		if err != nil {
			return n, fmt.Errorf("read %d: %w", n, err)
		}
		if gotTyp != typ || string(got) != string(msg) {
			return n, fmt.Errorf("message %d: echo of %d bytes differs", n, len(got))
		}
	}
	return n, nil
}

// WebSockets through a middleware plugin under two workers: a handshake
// without the token is answered 401 and never reaches the upstream; with
// it (header or ?token=), messages flow both ways for seconds, and the
// sockets are counted in /metrics and status while they are open.
func TestWebSocketThroughMiddleware(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := newHoldUpstream(t)
	e := serveEdge(t, example(t, "auth-middleware"), up.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, "ws://"+e.Addr+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("handshake without a token: %v %v, want 401", resp, err)
	}
	const sockets = 5
	conns := make([]*websocket.Conn, sockets)
	for i := range conns {
		if i == 0 {
			conns[i], _, err = websocket.Dial(ctx, "ws://"+e.Addr+"/ws?token="+authToken, nil)
		} else {
			conns[i], err = dialWS(ctx, e.Addr)
		}
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		defer conns[i].CloseNow()
	}
	if n := up.sockets.Load(); n != sockets {
		t.Fatalf("upstream accepted %d WebSockets, want %d (the refused handshake must not reach it)", n, sockets)
	}

	until := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	counts, errs := make([]int, sockets), make([]error, sockets)
	for i, c := range conns {
		wg.Go(func() { counts[i], errs[i] = chat(ctx, c, i, until) })
	}
	wg.Wait()
	for i := range conns {
		if errs[i] != nil || counts[i] < 10 {
			t.Errorf("socket %d: %d messages, %v", i, counts[i], errs[i])
		}
	}
	t.Logf("messages echoed in 5 s per socket: %v", counts)
	testkit.Eventually(t, 10*time.Second, func() error {
		open, total := e.upgraded(t)
		var st int64
		for _, w := range e.status(t).Workers {
			st += w.Upgraded
		}
		if open != sockets || total != sockets || st != sockets {
			return fmt.Errorf("/metrics: %d open of %d; status: %d open; want %d", open, total, st, sockets)
		}
		return nil
	})
	for _, c := range conns {
		c.Close(websocket.StatusNormalClosure, "done")
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if open, total := e.upgraded(t); open != 0 || total != sockets {
			return fmt.Errorf("/metrics after the close: %d open of %d, want 0 of %d", open, total, sockets)
		}
		return nil
	})
}

// withSection returns wasm with a custom section appended: the same
// plugin, another version (content hash).
func withSection(wasm []byte, payload string) []byte {
	name := "edge-test"
	body := append(append([]byte{byte(len(name))}, name...), payload...)
	return append(append(append([]byte{}, wasm...), 0, byte(len(body))), body...)
}

// workerOf is the status of the worker with pid.
func workerOf(st control.Status, pid int) (control.WorkerStatus, bool) {
	for _, w := range st.Workers {
		if w.PID == pid {
			return w, true
		}
	}
	return control.WorkerStatus{}, false
}

// --workers 0 serves WebSockets the same way and counts them the same.
func TestWebSocketInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := newHoldUpstream(t)
	e := serveEdge(t, example(t, "auth-middleware"), up.URL, "--workers", "0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := dialWS(ctx, e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// (Not chat: coder/websocket closes a socket whose Read context ends.)
	for i := range 100 {
		if err := wstest.RoundTrip(ctx, c, strings.Repeat("m", i*100)); err != nil {
			t.Fatalf("in-process WebSocket, message %d: %v", i, err)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		st := e.status(t)
		open, total := e.upgraded(t)
		if !st.InProcess || len(st.Workers) != 1 || st.Workers[0].Upgraded != 1 || open != 1 || total != 1 {
			return fmt.Errorf("status %+v, /metrics %d open of %d; want 1 of 1", st.Workers, open, total)
		}
		return nil
	})
}
