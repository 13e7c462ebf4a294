package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// loadUntil sends POSTs (no GetBody: never silently retried) one at a time,
// pausing between them, until stop closes; it returns the count and the
// failures.
func loadUntil(url string, pause time.Duration, stop <-chan struct{}) (n int, failed []string) {
	c := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-stop:
			return n, failed
		default:
		}
		req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader("x")))
		resp, err := c.Do(req)
		n++
		if err != nil {
			failed = append(failed, err.Error())
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed = append(failed, resp.Status)
			}
		}
		time.Sleep(pause)
	}
}

// exitsFor counts "worker exited" records logged with reason.
func exitsFor(log, reason string) int {
	n := 0
	for line := range strings.SplitSeq(log, "\n") {
		var rec struct{ Msg, Reason string }
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, "worker exited") && strings.HasPrefix(rec.Reason, reason) {
			n++
		}
	}
	return n
}

// A guest leaking memory on every request, with recycle.max_rss: the
// worker is replaced (surge-then-drain) before its RSS passes the limit by
// 10%, and no request fails.
func TestRecycleMaxRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("leaks to the limit: ~15 s")
	}
	const limit = 48 << 20
	sock := shortDirPath(t, "c.sock")
	s := startServe(t, nil, wat(t, "leak"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", sock,
		"--admin", "off", "--plugin-pool-size", "16", "--recycle-max-rss", "48MiB", "--recycle-max-rss-for", "1s")
	// wazero grows a linear memory by reallocating it, so RSS moves in
	// steps proportional to one instance's memory. The pool hands out idle
	// instances in turn: sixteen of them share the leak, and keep the steps
	// between two samples small.
	stop := make(chan struct{})
	var n int
	var failed []string
	var wg sync.WaitGroup
	wg.Go(func() { n, failed = loadUntil(s.url(), 50*time.Millisecond, stop) })

	var maxRSS int64
	var maxAt control.WorkerStatus
	deadline := time.Now().Add(40 * time.Second)
	for exitsFor(s.stderr.String(), "recycle max_rss") < 1 && time.Now().Before(deadline) {
		st, err := control.QueryStatus(t.Context(), sock)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, w := range st.Workers {
			if w.RSSBytes > maxRSS {
				maxRSS, maxAt = w.RSSBytes, w
			}
			if os.Getenv("OPS_DEBUG") != "" && w.RSSBytes > 30<<20 {
				t.Logf("pid %d %s rss %.1f MiB requests %d", w.PID, w.State, float64(w.RSSBytes)/(1<<20), w.Requests)
			}
			if w.State == "ready" {
				ready++
			}
		}
		if ready < 1 {
			t.Errorf("no ready worker: %+v", st.Workers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	recycled := exitsFor(s.stderr.String(), "recycle max_rss")
	t.Logf("%d requests, %d recycles, max RSS %.1f MiB (limit %d MiB) in worker %d (pid %d, %s, %d requests)",
		n, recycled, float64(maxRSS)/(1<<20), limit>>20, maxAt.ID, maxAt.PID, maxAt.State, maxAt.Requests)
	if recycled < 1 {
		t.Errorf("not recycled by max_rss within 40 s")
	}
	if maxRSS > limit+limit/10 {
		t.Errorf("RSS reached %.1f MiB: over the limit + 10%% (%d MiB)", float64(maxRSS)/(1<<20), limit>>20)
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed: %q", len(failed), n, failed[:min(len(failed), 5)])
	}
}

// recycle.max_requests replaces workers one at a time (each replacement
// ready before the next recycle starts), with capacity kept and no
// failed request.
func TestRecycleMaxRequestsStaggered(t *testing.T) {
	sock := shortDirPath(t, "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock,
		"--admin", "off", "--recycle-max-requests", "60", "--recycle-max-requests-jitter", "20")
	stop := make(chan struct{})
	var n int
	var failed []string
	var wg sync.WaitGroup
	wg.Go(func() { n, failed = loadUntil(s.url(), 5*time.Millisecond, stop) })
	deadline := time.Now().Add(30 * time.Second)
	for exitsFor(s.stderr.String(), "recycle max_requests") < 3 && time.Now().Before(deadline) {
		st, err := control.QueryStatus(t.Context(), sock)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, w := range st.Workers {
			if w.State == "ready" {
				ready++
			}
		}
		if ready < 2 {
			t.Errorf("capacity dipped: %d ready: %+v", ready, st.Workers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	// Staggered: every recycle starts only after the previous one's old
	// worker has exited.
	var seq []string
	for line := range strings.SplitSeq(s.stderr.String(), "\n") {
		var rec struct{ Msg, Reason string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Msg == "recycling worker":
			seq = append(seq, "start")
		case strings.HasPrefix(rec.Msg, "worker exited") && strings.HasPrefix(rec.Reason, "recycle"):
			seq = append(seq, "exit")
		}
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] == seq[i-1] {
			t.Errorf("recycles overlap: %v", seq)
			break
		}
	}
	if got := exitsFor(s.stderr.String(), "recycle max_requests"); got < 3 {
		t.Errorf("%d recycles by max_requests after %d requests", got, n)
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed: %q", len(failed), n, failed[:min(len(failed), 5)])
	}
}

func shortDirPath(t *testing.T, name string) string { return shortDir(t) + "/" + name }

// recycle.max_age replaces workers as they age, without a failed request.
func TestRecycleMaxAge(t *testing.T) {
	sock := shortDirPath(t, "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock,
		"--admin", "off", "--recycle-max-age", "1s")
	stop := make(chan struct{})
	var n int
	var failed []string
	var wg sync.WaitGroup
	wg.Go(func() { n, failed = loadUntil(s.url(), 10*time.Millisecond, stop) })
	deadline := time.Now().Add(20 * time.Second)
	for exitsFor(s.stderr.String(), "recycle max_age") < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got := exitsFor(s.stderr.String(), "recycle max_age"); got < 2 {
		t.Errorf("%d recycles by max_age within 20 s", got)
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed: %q", len(failed), n, failed[:min(len(failed), 5)])
	}
}
