package workers

import (
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// stagedPID returns the pid of the one starting worker, or 0.
func stagedPID(st control.Status) int {
	pid := 0
	for _, w := range st.Workers {
		if w.State == string(stateStarting) {
			if pid != 0 {
				return -1
			}
			pid = w.PID
		}
	}
	return pid
}

// A staged worker loads the new version but serves nothing until the roll
// to that version claims it: the roll's first replacement is that very
// process. Nothing fails meanwhile.
func TestPrestageClaimedByRoll(t *testing.T) {
	opts := baseOptions(t, 2)
	var held <-chan struct{}
	opts.Logger, held = heldLogger()
	pr := startPrimary(t, opts)
	l := startLoad(url(pr), 4, true)
	v2 := testSpec("v2", testPluginConfig{})
	pr.Prestage(v2)
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatalf("the staged worker did not report it was held: %+v", pr.Status())
	}
	pid := stagedPID(pr.Status())
	if pid <= 0 {
		t.Fatalf("want one starting (staged) worker: %+v", pr.Status().Workers)
	}
	time.Sleep(200 * time.Millisecond) // load keeps running against the held worker's listener
	if servedV2 := l.servedBy("v2"); servedV2 != 0 {
		t.Fatalf("the staged version answered %d requests before any roll", servedV2)
	}
	if err := pr.Roll(t.Context(), v2); err != nil {
		t.Fatal(err)
	}
	st := pr.Status()
	if !allOn(st, "v2", 2) {
		t.Fatalf("after the roll: %+v", st.Workers)
	}
	claimed := false
	for _, w := range st.Workers {
		claimed = claimed || w.PID == pid
	}
	if !claimed {
		t.Errorf("the roll started its own worker instead of the staged pid %d: %+v", pid, st.Workers)
	}
	res := l.finish()
	if res.Failed() != 0 {
		t.Errorf("failed requests: %v", res)
	}
}

// Unstage (the version was refused) stops the staged worker, and a roll to
// another version never uses it.
func TestUnstageStopsIt(t *testing.T) {
	opts := baseOptions(t, 2)
	var held <-chan struct{}
	opts.Logger, held = heldLogger()
	pr := startPrimary(t, opts)
	pr.Prestage(testSpec("bad", testPluginConfig{}))
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatalf("no staged worker: %+v", pr.Status())
	}
	pr.Unstage("bad")
	testkit.WaitFor(t, 10*time.Second, "staged worker gone", func() bool { return procCount(pr.Status()) == 2 })

	pr.Prestage(testSpec("v5", testPluginConfig{}))
	testkit.WaitFor(t, 10*time.Second, "a staged worker", func() bool { return stagedPID(pr.Status()) > 0 })
	pr.Unstage("") // any version
	testkit.WaitFor(t, 10*time.Second, "staged worker gone", func() bool { return procCount(pr.Status()) == 2 })

	pr.Prestage(testSpec("v3", testPluginConfig{}))
	testkit.WaitFor(t, 10*time.Second, "a staged worker", func() bool { return stagedPID(pr.Status()) > 0 })
	if err := pr.Roll(t.Context(), testSpec("v4", testPluginConfig{})); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "all on v4, nothing else", func() bool {
		st := pr.Status()
		return allOn(st, "v4", 2) && procCount(st) == 2
	})
}
