package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

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
	sock := filepath.Join(shortDir(t), "none.sock")
	for _, args := range [][]string{{"status", "--control", sock}, {"status", "--json", "--control", sock}} {
		r := runBin(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "no wasmcluster instance is running") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "wcp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
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
	sock := filepath.Join(shortDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock)
	st := statusOf(t, sock)
	pids := readyPIDs(st)
	if len(pids) != 2 || st.Desired != 2 || len(st.Version) != 64 || st.Control != sock {
		t.Fatalf("status: %+v", st)
	}
	for range 20 {
		resp, body := get(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, s.url())
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
	stop := make(chan struct{})
	failures := make(chan string, 1000)
	done := make(chan int)
	go func() {
		n := 0
		c := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, s.url(), io.NopCloser(strings.NewReader("x"))) // no GetBody: no silent retry
			resp, err := c.Do(req)
			if err != nil {
				failures <- err.Error()
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failures <- resp.Status
			}
			n++
		}
	}()
	s.signal(syscall.SIGHUP)
	s.waitLog(`"msg":"roll finished"`)
	close(stop)
	n := <-done
	close(failures)
	for f := range failures {
		t.Errorf("request failed during reload: %s", f)
	}
	after := readyPIDs(statusOf(t, sock))
	if len(after) != 2 || slices.Contains(after, pids[0]) || slices.Contains(after, pids[1]) {
		t.Errorf("workers after SIGHUP %v, before %v", after, pids)
	}
	t.Logf("%d requests during the reload", n)

	s.signal(syscall.SIGTTIN)
	deadline := time.Now().Add(15 * time.Second)
	for len(readyPIDs(statusOf(t, sock))) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("SIGTTIN did not add a worker: %+v", statusOf(t, sock))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.signal(syscall.SIGTTOU)
	deadline = time.Now().Add(15 * time.Second)
	for st := statusOf(t, sock); len(st.Workers) != 2 || st.Desired != 2; st = statusOf(t, sock) {
		if time.Now().After(deadline) {
			t.Fatalf("SIGTTOU did not remove a worker: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, s.stderr)
	}
	// Every worker line is re-logged whole, tagged with worker and pid.
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"worker ready"`) && (!strings.Contains(line, `"worker":`) || !strings.Contains(line, `"pid":`)) {
			t.Errorf("untagged worker line: %s", line)
		}
	}
}

func TestServeInProcessStatus(t *testing.T) {
	sock := filepath.Join(shortDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "0", "--control", sock)
	resp, body := get(t, client, s.url())
	if resp.StatusCode != 200 || body != "hello from wat\n" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	st := statusOf(t, sock)
	if !st.InProcess || len(st.Workers) != 1 || st.Workers[0].PID != s.cmd.Process.Pid || st.Workers[0].Requests < 1 {
		t.Errorf("in-process status: %+v", st)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, s.stderr)
	}
}
