package workers

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

func url(pr *Primary) string { return "http://" + pr.Addr().String() + "/" }

func TestServeAndStatus(t *testing.T) {
	opts := baseOptions(t, 2)
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), 4, true)
	l.WaitOK(t, 20, time.Minute)
	res := l.finish()
	if res.Failed() != 0 || res.OK == 0 {
		t.Fatalf("load: %v", res)
	}
	st, err := control.QueryStatus(t.Context(), opts.ControlPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Workers) != 2 || st.Desired != 2 || st.PID != os.Getpid() {
		t.Fatalf("status: %+v", st)
	}
	var reqs uint64
	for _, w := range st.Workers {
		if w.State != "ready" || w.PID == 0 || w.Version != "v1" || w.RSSBytes <= 0 {
			t.Errorf("worker status: %+v", w)
		}
		reqs += w.Requests
	}
	// Heartbeats lag; the counts only need to have moved.
	testkit.WaitFor(t, 5*time.Second, "requests in status", func() bool {
		var n uint64
		for _, w := range pr.Status().Workers {
			n += w.Requests
		}
		return n >= uint64(res.OK)
	})
	fi, err := os.Stat(opts.ControlPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode: %v %v", fi.Mode(), err)
	}
}

func TestSecondInstanceRefused(t *testing.T) {
	opts := baseOptions(t, 1)
	startPrimary(t, opts)
	o2 := baseOptions(t, 1)
	o2.ControlPath = opts.ControlPath
	if _, err := NewPrimary(o2); err == nil {
		t.Fatal("second primary on the same control socket started")
	}
}

// kill -9 a random worker every 500 ms under load: no refusals, at most
// one failure per connection held by the killed worker, count restored.
func TestKillWorkersUnderLoad(t *testing.T) {
	dur := 5 * time.Second
	if os.Getenv("WASMCLUSTER_SOAK") != "" {
		dur = 20 * time.Second
	}
	if testing.Short() {
		dur = 2 * time.Second
	}
	const clients = 8
	opts := baseOptions(t, 3)
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), clients, true)
	kills := 0
	var restore []time.Duration
	for end := time.Now().Add(dur); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		pids := readyPIDs(pr.Status())
		if len(pids) == 0 {
			continue
		}
		victim := pids[rand.IntN(len(pids))]
		syscall.Kill(victim, syscall.SIGKILL)
		kills++
		t0 := time.Now()
		testkit.WaitFor(t, 10*time.Second, "worker count restored", func() bool {
			p := readyPIDs(pr.Status())
			return len(p) == 3 && !slices.Contains(p, victim)
		})
		restore = append(restore, time.Since(t0))
	}
	res := l.finish()
	t.Logf("%d kills; %v; restore times %v", kills, res, restore)
	if os.Getenv("WASMCLUSTER_SOAK") != "" { // timing only in the soak run
		for _, d := range restore {
			if d > time.Second {
				t.Errorf("worker count restored after %v, want within 1s", d)
			}
		}
	}
	if res.Failures[testkit.Refused] != 0 {
		t.Errorf("%d connections refused", res.Failures[testkit.Refused])
	}
	if res.non2xx() != 0 {
		t.Errorf("%d non-2xx answers", res.non2xx())
	}
	if max := kills * clients; res.Failed() > max {
		t.Errorf("%d failures for %d kills with %d clients (max %d)", res.Failed(), kills, clients, max)
	}
	if res.OK == 0 {
		t.Error("no request succeeded")
	}
}

// A stopped worker misses heartbeats: it is replaced, and new connections
// keep being served meanwhile.
func TestStoppedWorkerReplaced(t *testing.T) {
	opts := baseOptions(t, 2)
	opts.HeartbeatTimeout = 1500 * time.Millisecond
	logs := &testkit.Buffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	pr := startPrimary(t, opts)
	pids := readyPIDs(pr.Status())
	victim := pids[0]
	if err := syscall.Kill(victim, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(victim, syscall.SIGKILL)
	t0 := time.Now()
	testkit.WaitFor(t, 10*time.Second, "stopped worker replaced", func() bool {
		p := readyPIDs(pr.Status())
		return len(p) == 2 && !slices.Contains(p, victim)
	})
	t.Logf("replaced after %v (heartbeat timeout %v)", time.Since(t0), opts.HeartbeatTimeout)
	// The stack dump (SIGQUIT, after SIGCONT) reached the log, tagged.
	testkit.WaitFor(t, 5*time.Second, "stack dump in the log", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "goroutine ") && strings.Contains(line, fmt.Sprintf(`"pid":%d`, victim)) {
				return true
			}
		}
		return false
	})
	var st control.Status
	testkit.WaitFor(t, 5*time.Second, "last exit recorded", func() bool {
		st = pr.Status()
		for _, w := range st.Workers {
			if w.LastExit != "" {
				return true
			}
		}
		return false
	})
	found := false
	for _, w := range st.Workers {
		found = found || (w.Restarts == 1 && w.LastExit == "heartbeat timeout (signal SIGQUIT)") ||
			(w.Restarts == 1 && w.LastExit == "heartbeat timeout (signal SIGKILL)") ||
			(w.Restarts == 1 && w.LastExit == "heartbeat timeout (exit status 2)")
	}
	if !found {
		t.Errorf("status does not show the heartbeat kill: %+v", st.Workers)
	}
	// New connections are served (no keep-alive: each one is accepted anew).
	l := startLoad(url(pr), 2, false)
	l.WaitOK(t, 20, time.Minute)
	res := l.finish()
	if res.Failed() != 0 || res.OK == 0 {
		t.Fatalf("after replacement: %v", res)
	}
}

// Many respawns leave no trace: the listener stays non-blocking and the
// primary's fds and goroutines return to their baseline.
func TestRespawnsDoNotLeak(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 20
	}
	opts := baseOptions(t, 2)
	opts.Backoff = Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, MinUptime: time.Nanosecond}
	pr := startPrimary(t, opts)
	settle := func() {
		testkit.WaitFor(t, 10*time.Second, "2 ready workers", func() bool { return len(readyPIDs(pr.Status())) == 2 })
		time.Sleep(300 * time.Millisecond) // let watcher goroutines finish
	}
	settle()
	fds0, g0 := countFDs(t), runtime.NumGoroutine()
	for i := range n {
		pids := readyPIDs(pr.Status())
		victim := pids[i%len(pids)]
		syscall.Kill(victim, syscall.SIGKILL)
		testkit.WaitFor(t, 10*time.Second, "respawn", func() bool {
			p := readyPIDs(pr.Status())
			return len(p) == 2 && !slices.Contains(p, victim)
		})
	}
	settle()
	var fds1, g1 int
	testkit.WaitFor(t, 5*time.Second, "fds and goroutines back to baseline", func() bool {
		fds1, g1 = countFDs(t), runtime.NumGoroutine()
		return fds1 <= fds0 && g1 <= g0
	})
	t.Logf("%d respawns: fds %d -> %d, goroutines %d -> %d", n, fds0, fds1, g0, g1)
	if nb, err := listenerNonblocking(pr.ln); err != nil || !nb {
		t.Fatalf("listener nonblocking=%v err=%v", nb, err)
	}
	l := startLoad(url(pr), 2, true)
	l.WaitOK(t, 20, time.Minute)
	if res := l.finish(); res.Failed() != 0 || res.OK == 0 {
		t.Fatalf("after respawns: %v", res)
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// HUP's reload: a surge-then-drain roll to a new version under load fails
// no request, and afterwards every answer comes from the new version.
func TestRollNoFailedRequests(t *testing.T) {
	opts := baseOptions(t, 2)
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), 8, true)
	for i, v := range []string{"v2", "v3"} {
		if err := pr.Roll(t.Context(), testSpec(v, testPluginConfig{})); err != nil {
			t.Fatalf("roll %d: %v", i, err)
		}
	}
	res := l.finish()
	t.Logf("%v", res)
	if res.Failed() != 0 {
		t.Errorf("roll failed requests: %v", res)
	}
	for _, w := range pr.Status().Workers {
		if w.Version != "v3" || w.State != "ready" {
			t.Errorf("after roll: %+v", w)
		}
	}
	resp, err := http.Get(url(pr))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Version"); v != "v3" {
		t.Errorf("served version %q after roll", v)
	}
	// A version that cannot become ready aborts the roll; v3 keeps serving.
	err = pr.Roll(t.Context(), testSpec("broken", testPluginConfig{SelfTest: 500}))
	if err == nil {
		t.Fatal("roll to a version failing its self-test succeeded")
	}
	t.Logf("aborted roll: %v", err)
	for _, w := range pr.Status().Workers {
		if w.Version != "v3" {
			t.Errorf("after aborted roll: %+v", w)
		}
	}
}
