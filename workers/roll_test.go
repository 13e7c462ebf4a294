package workers

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// procCount is the number of worker processes the primary has (surge and
// draining ones included).
func procCount(st control.Status) int {
	n := 0
	for _, w := range st.Workers {
		if w.PID != 0 {
			n++
		}
	}
	return n
}

// activeCount is the number of worker processes that serve or are starting:
// what a roll's "one surge worker at a time" bounds. Draining workers take
// no new connections and are on their way out.
func activeCount(st control.Status) int {
	n := 0
	for _, w := range st.Workers {
		if w.PID != 0 && (w.State == string(stateReady) || w.State == string(stateStarting)) {
			n++
		}
	}
	return n
}

// watchProcs samples the count of serving and starting workers until stop
// is called and returns the maximum seen.
func watchProcs(pr *Primary) (stop func() int) {
	var maxN atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if n := int64(activeCount(pr.Status())); n > maxN.Load() {
				maxN.Store(n)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() int {
		close(done)
		<-finished
		return int(maxN.Load())
	}
}

func allOn(st control.Status, version string, n int) bool {
	c := 0
	for _, w := range st.Workers {
		if w.State != string(stateReady) || w.Version != version {
			return false
		}
		c++
	}
	return c == n
}

// A storm of roll requests under load: every request is answered, the last
// version wins, no request fails, and there is never more than one extra
// worker serving or starting.
func TestRollStormRetargets(t *testing.T) {
	opts := baseOptions(t, 2)
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), 8, true)
	maxProcs := watchProcs(pr)
	var chans []<-chan control.RollStatus
	for i := range 20 {
		chans = append(chans, pr.Submit(RollRequest{Spec: testSpec(fmt.Sprintf("s%02d", i), testPluginConfig{}), Trigger: "test"}))
		time.Sleep(time.Duration(i%4) * 30 * time.Millisecond)
	}
	var last control.RollStatus
	for i, ch := range chans {
		select {
		case last = <-ch:
		case <-time.After(60 * time.Second):
			t.Fatalf("request %d: no outcome within 60s; status %+v", i, pr.Status())
		}
		if last.Outcome != control.OutcomeOK {
			t.Errorf("request %d: %+v", i, last)
		}
	}
	if last.Target != "s19" {
		t.Errorf("last outcome targets %q, want s19", last.Target)
	}
	testkit.WaitFor(t, 10*time.Second, "all workers on s19", func() bool { return allOn(pr.Status(), "s19", 2) })
	res := l.finish()
	if m := maxProcs(); m > 3 {
		t.Errorf("saw %d workers serving or starting; at most workers+1 = 3 allowed", m)
	}
	t.Logf("%v", res)
	if res.Failed() != 0 {
		t.Errorf("failed requests during the storm: %v", res)
	}
	st := pr.Status()
	if st.Roll == nil || st.Roll.Outcome != control.OutcomeOK || st.Roll.Target != "s19" || st.Version != "s19" {
		t.Errorf("status roll: %+v version %q", st.Roll, st.Version)
	}
}

// A version whose workers never become ready aborts the roll: the old
// version keeps serving and status says why.
func TestRollAbortKeepsOld(t *testing.T) {
	opts := baseOptions(t, 2)
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), 4, true)
	err := pr.Roll(t.Context(), testSpec("bad", testPluginConfig{FailLoad: true}))
	if err == nil || !strings.Contains(err.Error(), "told to fail") {
		t.Fatalf("roll to a failing version: %v", err)
	}
	res := l.finish()
	if res.Failed() != 0 || res.vers["bad"] != 0 {
		t.Errorf("load during aborted roll: %v", res)
	}
	st := pr.Status()
	if !allOn(st, "v1", 2) || st.Version != "v1" {
		t.Errorf("after aborted roll: %+v", st.Workers)
	}
	if st.Roll == nil || st.Roll.Outcome != control.OutcomeAborted || !strings.Contains(st.Roll.Error, "told to fail") {
		t.Errorf("status roll: %+v", st.Roll)
	}
	// The next good version rolls normally.
	if err := pr.Roll(t.Context(), testSpec("v2", testPluginConfig{})); err != nil {
		t.Fatal(err)
	}
	if st := pr.Status(); !allOn(st, "v2", 2) {
		t.Errorf("after good roll: %+v", st.Workers)
	}
}

// A version that starts fine but crash-loops after its roll is reverted to
// the last good one.
func TestCrashLoopReverted(t *testing.T) {
	opts := baseOptions(t, 2)
	opts.Backoff = Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, CrashLoop: 3, StableAfter: time.Minute}
	var after atomic.Pointer[control.RollStatus]
	opts.AfterRoll = func(st control.RollStatus, inUse []string) { after.Store(&st) }
	pr := startPrimary(t, opts)
	if err := pr.Roll(t.Context(), testSpec("crashy", testPluginConfig{CrashAfter: 200 * time.Millisecond})); err != nil {
		t.Fatalf("roll: %v", err)
	}
	testkit.WaitFor(t, 30*time.Second, "revert to v1", func() bool {
		st := pr.Status()
		return st.Roll != nil && st.Roll.Outcome == control.OutcomeReverted && allOn(st, "v1", 2)
	})
	st := pr.Status()
	if st.Version != "v1" || st.LastGood != "v1" || !strings.Contains(st.Roll.Error, "crash-looped") {
		t.Errorf("status after revert: version %q last good %q roll %+v", st.Version, st.LastGood, st.Roll)
	}
	if a := after.Load(); a == nil || a.Outcome != control.OutcomeReverted {
		t.Errorf("AfterRoll saw %+v", a)
	}
	t.Logf("revert: %s", st.Roll.Error)
}

// Many rolls leave the primary's fds and goroutines at their baseline.
func TestRollsDoNotLeak(t *testing.T) {
	n := 30
	if testing.Short() {
		n = 10
	}
	opts := baseOptions(t, 2)
	pr := startPrimary(t, opts)
	time.Sleep(300 * time.Millisecond)
	fds0, g0 := countFDs(t), runtime.NumGoroutine()
	for i := range n {
		if err := pr.Roll(t.Context(), testSpec(fmt.Sprintf("r%d", i%2), testPluginConfig{})); err != nil {
			t.Fatal(err)
		}
	}
	var fds1, g1 int
	testkit.WaitFor(t, 10*time.Second, "fds and goroutines back to baseline", func() bool {
		fds1, g1 = countFDs(t), runtime.NumGoroutine()
		return fds1 <= fds0 && g1 <= g0+2
	})
	t.Logf("%d rolls: fds %d -> %d, goroutines %d -> %d", n, fds0, fds1, g0, g1)
}

// The next replacement starts while the worker it follows still drains:
// with old workers slow to finish draining, both are seen draining at once
// (before, the roll waited for each to exit before the next surge).
func TestRollStartsNextWhileOldDrains(t *testing.T) {
	opts := baseOptions(t, 2)
	opts.Spec = testSpec("v1", testPluginConfig{CloseDelay: 2 * time.Second})
	pr := startPrimary(t, opts)
	maxDraining := 0
	done := make(chan error, 1)
	go func() { done <- pr.Roll(t.Context(), testSpec("v2", testPluginConfig{})) }()
	for rolled := false; !rolled; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			rolled = true
		case <-time.After(5 * time.Millisecond):
			n := 0
			for _, w := range pr.Status().Workers {
				if w.State == string(stateDraining) {
					n++
				}
			}
			maxDraining = max(maxDraining, n)
		}
	}
	if maxDraining < 2 {
		t.Errorf("at most %d old workers draining at once; want 2 (the second replacement starts while the first old worker drains)", maxDraining)
	}
	if st := pr.Status(); !allOn(st, "v2", 2) || procCount(st) != 2 {
		t.Errorf("after the roll (which waits for the old workers to exit): %+v", st.Workers)
	}
}
