package control

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func serve(t *testing.T, path string, handlers map[string]Handler) *Server {
	t.Helper()
	s, err := Open(path, handlers)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return s
}

// A status and a reload round trip over a real socket, with arguments,
// errors and unknown commands.
func TestRoundTrip(t *testing.T) {
	path := testkit.SocketDir(t) + "/c.sock"
	serve(t, path, map[string]Handler{
		CmdStatus: func(context.Context, json.RawMessage) (any, error) {
			return Status{PID: 42, Workers: []WorkerStatus{{ID: 1, State: "ready"}}}, nil
		},
		CmdReload: func(_ context.Context, raw json.RawMessage) (any, error) {
			var args ReloadArgs
			if err := json.Unmarshal(raw, &args); err != nil {
				return nil, err
			}
			if !args.Wait {
				return nil, errors.New("refused without wait")
			}
			return ReloadResult{Version: "v2", Roll: &RollStatus{Outcome: OutcomeOK}}, nil
		},
	})
	st, err := QueryStatus(t.Context(), path)
	if err != nil || st.PID != 42 || len(st.Workers) != 1 || st.Workers[0].State != "ready" {
		t.Fatalf("status: %+v, %v", st, err)
	}
	res, err := Reload(t.Context(), path, true)
	if err != nil || res.Version != "v2" || res.Roll.Err() != nil {
		t.Fatalf("reload --wait: %+v, %v", res, err)
	}
	if _, err := Reload(t.Context(), path, false); err == nil || !strings.Contains(err.Error(), "refused without wait") {
		t.Fatalf("reload without wait = %v, want the handler's error", err)
	}
	if err := call(t.Context(), path, "nope", nil, nil); err == nil || !strings.Contains(err.Error(), `unknown command "nope"`) {
		t.Fatalf("unknown command = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode: %v %v", fi.Mode(), err)
	}
}

func TestStatusWithoutInstance(t *testing.T) {
	_, err := QueryStatus(t.Context(), testkit.SocketDir(t)+"/none.sock")
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("QueryStatus on no instance = %v, want ErrNotRunning", err)
	}
}

// A live instance's socket is never taken over; a stale one is replaced,
// and "-" opens nothing.
func TestOpenRefusesLiveSocket(t *testing.T) {
	path := testkit.SocketDir(t) + "/c.sock"
	s := serve(t, path, nil)
	if _, err := Open(path, nil); err == nil {
		t.Fatal("second server on a live control socket opened")
	}
	s.ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s2.Close()
	if s3, err := Open("-", nil); s3 != nil || err != nil {
		t.Fatalf(`Open("-") = %v, %v`, s3, err)
	}
}
