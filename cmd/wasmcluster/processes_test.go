package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// Tests of the process layer through the real binary (processes.go,
// status.go, workercmd.go).

func TestWorkerByHand(t *testing.T) {
	r := runBin(t, nil, "worker")
	if r.code != 2 || !strings.Contains(r.stderr, "worker process") || !strings.Contains(r.stderr, "not meant to be run by hand") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestStatusWithoutInstance(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "none.sock")
	for _, args := range [][]string{{"status", "--control", sock}, {"status", "--json", "--control", sock}} {
		r := runBin(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "no wasmcluster instance is running") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}

func statusOf(t *testing.T, sock string) control.Status {
	t.Helper()
	r := runBin(t, nil, "status", "--json", "--control", sock)
	if r.code != 0 {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	var st control.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

func readyPIDs(st control.Status) []int {
	var pids []int
	for _, w := range st.Workers {
		if w.State == "ready" {
			pids = append(pids, w.PID)
		}
	}
	return pids
}

// serve --workers 2: two worker processes serve, status shows them (text
// and JSON), SIGHUP replaces both without a failed request, SIGTTIN adds one.
func TestServeWorkersStatusReload(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock)
	st := statusOf(t, sock)
	pids := readyPIDs(st)
	if len(pids) != 2 || st.Desired != 2 || len(st.Version) != 64 || st.Control != sock {
		t.Fatalf("status: %+v", st)
	}
	for range 20 {
		resp, body := get(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, s.URL())
		if resp.StatusCode != 200 || body != "hello from wat\n" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	}
	r := runBin(t, nil, "status", "--control", sock)
	for _, want := range []string{"ID  PID", "ready", st.Version[:12], "LAST EXIT"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status table lacks %q:\n%s", want, r.stdout)
		}
	}

	// SIGHUP: surge-then-drain restart under load, nothing fails.
	l := trickle(s.URL(), 0)
	s.Signal(syscall.SIGHUP)
	s.WaitLog(`"msg":"roll finished"`)
	res := l.Stop()
	if res.Failed() != 0 {
		t.Errorf("requests failed during reload: %v", res)
	}
	after := readyPIDs(statusOf(t, sock))
	if len(after) != 2 || slices.Contains(after, pids[0]) || slices.Contains(after, pids[1]) {
		t.Errorf("workers after SIGHUP %v, before %v", after, pids)
	}
	t.Logf("%d requests during the reload", res.OK)

	s.Signal(syscall.SIGTTIN)
	testkit.Eventually(t, 15*time.Second, func() error {
		if st := statusOf(t, sock); len(readyPIDs(st)) != 3 {
			return fmt.Errorf("SIGTTIN did not add a worker: %+v", st)
		}
		return nil
	})
	s.Signal(syscall.SIGTTOU)
	testkit.Eventually(t, 15*time.Second, func() error {
		if st := statusOf(t, sock); len(st.Workers) != 2 || st.Desired != 2 {
			return fmt.Errorf("SIGTTOU did not remove a worker: %+v", st)
		}
		return nil
	})
	if code := s.Stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, s.Log)
	}
	// Every worker line is re-logged whole, tagged with worker and pid.
	for _, line := range strings.Split(s.Log.String(), "\n") {
		if strings.Contains(line, `"msg":"worker ready"`) && (!strings.Contains(line, `"worker":`) || !strings.Contains(line, `"pid":`)) {
			t.Errorf("untagged worker line: %s", line)
		}
	}
}

func TestServeInProcessStatus(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "0", "--control", sock)
	resp, body := get(t, client, s.URL())
	if resp.StatusCode != 200 || body != "hello from wat\n" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	st := statusOf(t, sock)
	if !st.InProcess || len(st.Workers) != 1 || st.Workers[0].PID != s.Cmd.Process.Pid || st.Workers[0].Requests < 1 {
		t.Errorf("in-process status: %+v", st)
	}
	if code := s.Stop(); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, s.Log)
	}
}
