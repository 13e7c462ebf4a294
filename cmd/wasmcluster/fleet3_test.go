package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// Helpers of the fleet tests with three instances (three machines), and
// the test of an instance killed mid-rollout.

// startFleet starts k instances of src, each with its own cache directory.
func startFleet(t *testing.T, src string, k int, flags []string) []*testkit.Server {
	t.Helper()
	ss := make([]*testkit.Server, k)
	for i := range ss {
		ss[i] = startFleetInstance(t, src, t.TempDir(), flags)
	}
	return ss
}

// startFleetLoads puts a strict load of clients on every instance.
func startFleetLoads(ss []*testkit.Server, clients int, known ...string) []*swapLoad {
	loads := make([]*swapLoad, len(ss))
	for i, s := range ss {
		loads[i] = startSwapLoad(s.URL(), clients, known...)
	}
	return loads
}

func stopFleetLoads(loads []*swapLoad) {
	for _, l := range loads {
		l.Stop()
	}
}

// checkFleetLoads: every instance has rolled to v; requests started from
// now on must get v. It then stops the loads and fails t on any failed,
// unknown or stale answer.
func checkFleetLoads(t *testing.T, loads []*swapLoad, v string) {
	t.Helper()
	for _, l := range loads {
		l.setExpect(v)
	}
	time.Sleep(300 * time.Millisecond)
	for _, l := range loads {
		l.check(t)
	}
}

// An instance whose primary is killed (SIGKILL) mid-roll, and that misses
// a publish while it is down, comes back up on the newest version; the
// other instances roll under load with no failed request; the fleet view
// drops the dead instance once its report expires and lists the new one.
func TestFleetInstanceKilledMidRoll(t *testing.T) {
	t.Parallel()
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b, c := versionWAT(t, "A"), versionWAT(t, "B"), versionWAT(t, "C")
	if r := publish(t, flags, testkit.TempFile(t, "a.wasm", a), n.source()); r.code != 0 {
		t.Fatalf("publish A: exit %d: %s", r.code, r.stderr)
	}
	cache := t.TempDir()
	ss := append(startFleet(t, n.source(), 2, flags), startFleetInstance(t, n.source(), cache, flags))
	victim := ss[2]
	waitFleetRuns(t, n.source(), flags, 3, sha(a))
	deadID := reportOf(t, fleetJSON(t, n.source(), flags), victim.Cmd.Process.Pid).ID
	loads := startFleetLoads(ss[:2], 4, "version A\n", "version B\n", "version C\n")
	defer stopFleetLoads(loads)

	done := make(chan result, 1)
	go func() { done <- publish(t, flags, testkit.TempFile(t, "b.wasm", b), n.source()) }()
	victim.WaitLog("roll started") // B fetched and checked: new workers starting, old ones serving
	victim.Cmd.Process.Kill()
	if code := victim.Wait(); code != -1 {
		t.Errorf("killed instance exited %d, want -1 (a signal)", code)
	}
	if r := <-done; r.code != 0 {
		t.Fatalf("publish B: exit %d: %s", r.code, r.stderr)
	}
	if r := publish(t, flags, testkit.TempFile(t, "c.wasm", c), n.source()); r.code != 0 {
		t.Fatalf("publish C while an instance is down: exit %d: %s", r.code, r.stderr)
	}

	back := startFleetInstance(t, n.source(), cache, flags)
	if _, body := get(t, http.DefaultClient, back.URL()); body != "version C\n" {
		t.Errorf("the restarted instance answers %q, want the newest version C", body)
	}
	// The dead report lives until its TTL runs out without a refresh; then
	// every live instance runs C (its roll done: the load may expect it).
	testkit.Eventually(t, fleet.ReportTTL+10*time.Second, func() error {
		reps := fleetJSON(t, n.source(), flags)
		if slices.ContainsFunc(reps, func(r fleet.Report) bool { return r.ID == deadID }) {
			return fmt.Errorf("the killed instance %s is still in the fleet view", deadID)
		}
		if len(reps) != 3 || !fleet.Runs(reps, sha(c)) {
			return fmt.Errorf("fleet view %+v: want 3 instances on C", reps)
		}
		return nil
	})
	checkFleetLoads(t, loads, "version C\n")
	reportOf(t, fleetJSON(t, n.source(), flags), back.Cmd.Process.Pid)
}

// reportOf is the report of the instance whose primary is pid.
func reportOf(t *testing.T, reps []fleet.Report, pid int) fleet.Report {
	t.Helper()
	for _, r := range reps {
		if r.PID == pid {
			return r
		}
	}
	var ids []string
	for _, r := range reps {
		ids = append(ids, r.ID)
	}
	t.Fatalf("no report of pid %d in the fleet view (%s)", pid, strings.Join(ids, ", "))
	return fleet.Report{}
}
