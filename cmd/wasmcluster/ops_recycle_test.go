package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// trickle is one strict client (testkit.StartLoad: never silently
// retried, every failure counted) POSTing to url, pausing between requests.
func trickle(url string, pause time.Duration) *testkit.Load {
	return testkit.StartLoad(url, testkit.LoadOptions{
		Timeout: 10 * time.Second,
		Pause:   pause,
		Request: func(int, int) (string, string, string) { return http.MethodPost, "", "x" },
	})
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
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "leak"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", sock,
		"--admin", "off", "--plugin-pool-size", "16", "--recycle-max-rss", "48MiB", "--recycle-max-rss-for", "1s")
	// wazero grows a linear memory by reallocating it, so RSS moves in
	// steps proportional to one instance's memory. The pool hands out idle
	// instances in turn: sixteen of them share the leak, and keep the steps
	// between two samples small.
	l := trickle(s.URL(), 50*time.Millisecond)

	var maxRSS int64
	var maxAt control.WorkerStatus
	deadline := time.Now().Add(40 * time.Second)
	for exitsFor(s.Log.String(), "recycle max_rss") < 1 && time.Now().Before(deadline) {
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
	res := l.Stop()
	n := res.OK + res.Failed()
	recycled := exitsFor(s.Log.String(), "recycle max_rss")
	t.Logf("%d requests, %d recycles, max RSS %.1f MiB (limit %d MiB) in worker %d (pid %d, %s, %d requests)",
		n, recycled, float64(maxRSS)/(1<<20), limit>>20, maxAt.ID, maxAt.PID, maxAt.State, maxAt.Requests)
	if recycled < 1 {
		t.Errorf("not recycled by max_rss within 40 s")
	}
	if maxRSS > limit+limit/10 {
		t.Errorf("RSS reached %.1f MiB: over the limit + 10%% (%d MiB)", float64(maxRSS)/(1<<20), limit>>20)
	}
	if res.Failed() > 0 {
		t.Errorf("%d of %d requests failed: %v", res.Failed(), n, res)
	}
}

// recycle.max_requests replaces workers one at a time (each replacement
// ready before the next recycle starts), with capacity kept and no
// failed request.
func TestRecycleMaxRequestsStaggered(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock,
		"--admin", "off", "--recycle-max-requests", "60", "--recycle-max-requests-jitter", "20")
	l := trickle(s.URL(), 5*time.Millisecond)
	deadline := time.Now().Add(30 * time.Second)
	for exitsFor(s.Log.String(), "recycle max_requests") < 3 && time.Now().Before(deadline) {
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
	res := l.Stop()
	n := res.OK + res.Failed()

	// Staggered: every recycle starts only after the previous one's old
	// worker has exited.
	var seq []string
	for line := range strings.SplitSeq(s.Log.String(), "\n") {
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
	if got := exitsFor(s.Log.String(), "recycle max_requests"); got < 3 {
		t.Errorf("%d recycles by max_requests after %d requests", got, n)
	}
	if res.Failed() > 0 {
		t.Errorf("%d of %d requests failed: %v", res.Failed(), n, res)
	}
}

// recycle.max_age replaces workers as they age, without a failed request.
func TestRecycleMaxAge(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "2", "--control", sock,
		"--admin", "off", "--recycle-max-age", "1s")
	l := trickle(s.URL(), 10*time.Millisecond)
	deadline := time.Now().Add(20 * time.Second)
	for exitsFor(s.Log.String(), "recycle max_age") < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	res := l.Stop()
	n := res.OK + res.Failed()
	if got := exitsFor(s.Log.String(), "recycle max_age"); got < 2 {
		t.Errorf("%d recycles by max_age within 20 s", got)
	}
	if res.Failed() > 0 {
		t.Errorf("%d of %d requests failed: %v", res.Failed(), n, res)
	}
}
