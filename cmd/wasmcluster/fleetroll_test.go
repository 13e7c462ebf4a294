package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// Rollout control: publish --max-unavailable, publish --wait, and reload
// keeping the mirror's accepted copy in step. One worker per instance
// keeps three instances light on a small machine.

// startRollInstance serves src with one worker and its own cache. A new
// version is watched for a crash loop for 3s (publish --wait waits that
// out); extra may set it again, the last one counts.
func startRollInstance(t *testing.T, src string, flags []string, extra ...string) *testkit.Server {
	t.Helper()
	return startRollInstanceIn(t, src, t.TempDir(), flags, extra...)
}

// startRollInstanceIn is startRollInstance with the cache directory cache.
func startRollInstanceIn(t *testing.T, src, cache string, flags []string, extra ...string) *testkit.Server {
	t.Helper()
	args := append([]string{src, "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--cache-dir", cache,
		"--plugin-stable-after", "3s"}, flags...)
	return startServe(t, nil, append(args, extra...)...)
}

// dialTest connects the test itself to n's source.
func rollDial(t *testing.T, n *natsNode) *fleet.Conn {
	t.Helper()
	src, _ := fleet.ParseSource(n.source())
	conn, err := fleet.Dial(src, fleet.Auth{Token: fleetToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// rollPublish publishes b (named name) to n's source.
func rollPublish(t *testing.T, n *natsNode, flags []string, name string, b []byte) {
	t.Helper()
	if r := publish(t, flags, testkit.TempFile(t, name+".wasm", b), n.source()); r.code != 0 {
		t.Fatalf("publish %s: exit %d: %s", name, r.code, r.stderr)
	}
}

// slotWatch samples the fleet view and the slot bucket until stopped: the
// most instances seen holding a slot at once, whether one was seen
// waiting for one, and every holder seen.
type slotWatch struct {
	stop, done chan struct{}
	mu         sync.Mutex
	maxHolding int // from the reports: each lags up to a refresh
	maxSlots   int // from the slot bucket: the truth
	sawWaiting bool
	sawHolding bool
	holders    map[string]bool
}

func watchSlots(t *testing.T, conn *fleet.Conn) *slotWatch {
	w := &slotWatch{stop: make(chan struct{}), done: make(chan struct{}), holders: map[string]bool{}}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(30 * time.Millisecond):
			}
			reps, _ := conn.Fleet(t.Context())
			slots, _ := conn.Slots(t.Context())
			holding := 0
			w.mu.Lock()
			for _, r := range reps {
				if r.Holding != "" {
					holding++
					w.sawHolding = true
				}
				w.sawWaiting = w.sawWaiting || r.Waiting != ""
			}
			for _, s := range slots {
				w.holders[s.Instance] = true
			}
			w.maxHolding, w.maxSlots = max(w.maxHolding, holding), max(w.maxSlots, len(slots))
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *slotWatch) Stop() {
	close(w.stop)
	<-w.done
}

// --max-unavailable 1 with three instances: never more than one holds a
// roll slot or says it is rolling, the others say they wait, each takes
// the slot in turn, and publish --wait returns once all three run B. Then
// the same with a canary first.
func TestFleetMaxUnavailable(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	rollPublish(t, n, flags, "a", a)
	var ss []*testkit.Server
	for range 3 {
		ss = append(ss, startRollInstance(t, n.source(), flags))
	}
	waitFleetRuns(t, n.source(), flags, 3, sha(a))
	conn := rollDial(t, n)
	w := watchSlots(t, conn)
	t0 := time.Now()
	r := publish(t, flags, "--max-unavailable", "1", "--wait", "60s", testkit.TempFile(t, "b.wasm", b), n.source())
	t.Logf("publish --max-unavailable 1 --wait: exit %d after %v", r.code, time.Since(t0).Round(time.Millisecond))
	w.Stop()
	if r.code != 0 || strings.TrimSpace(r.stdout) != sha(b) {
		t.Fatalf("publish --max-unavailable 1 --wait: exit %d, stdout %q; stderr %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("observed: at most %d holding, %d slots held, waiting seen %v, holders %v", w.maxHolding, w.maxSlots, w.sawWaiting, w.holders)
	// The bucket is what bounds the rolls; a report says "holding" until
	// its next refresh (up to 200 ms after the slot was freed), so two
	// reports may overlap for a moment while the bucket never does.
	if w.maxSlots > 1 {
		t.Errorf("with --max-unavailable 1, %d slots were held at once", w.maxSlots)
	}
	if !w.sawWaiting || !w.sawHolding {
		t.Errorf("the fleet view never showed an instance waiting for a roll slot (%v) or holding one (%v)", w.sawWaiting, w.sawHolding)
	}
	waited := 0
	for _, s := range ss {
		if _, body := get(t, http.DefaultClient, s.URL()); body != "version B\n" {
			t.Errorf("%s answers %q after publish --wait, want version B", s.URL(), body)
		}
		log := s.Log.String()
		if !strings.Contains(log, "fleet: roll slot taken") || !strings.Contains(log, "fleet: roll slot freed") {
			t.Errorf("instance %s did not take and free a roll slot:\n%s", s.URL(), log)
		}
		if strings.Contains(log, "fleet: waiting for a roll slot") {
			waited++
		}
	}
	if waited == 0 {
		t.Errorf("no instance logged waiting for a roll slot")
	}
	if slots, err := conn.Slots(t.Context()); err != nil || len(slots) != 0 {
		t.Errorf("slots held after the rollout: %+v, %v", slots, err)
	}
	canaryThenBounded(t, n, flags, conn, ss)
}

// canaryThenBounded publishes C with a canary and --max-unavailable 1: the
// canary rolls without a slot, then the other two one at a time.
func canaryThenBounded(t *testing.T, n *natsNode, flags []string, conn *fleet.Conn, ss []*testkit.Server) {
	t.Helper()
	canaryPID := fleetJSON(t, n.source(), flags)[0].PID // the first by ID
	c := versionWAT(t, "C")
	w := watchSlots(t, conn)
	r := publish(t, flags, "--canary", "1", "--canary-for", "1s", "--max-unavailable", "1", "--wait", "60s",
		testkit.TempFile(t, "c.wasm", c), n.source())
	w.Stop()
	if r.code != 0 || strings.TrimSpace(r.stdout) != sha(c) {
		t.Fatalf("publish --canary 1 --max-unavailable 1 --wait: exit %d, stdout %q; stderr %s", r.code, r.stdout, r.stderr)
	}
	if w.maxSlots > 1 { // the bucket, not the lagging reports (see above)
		t.Errorf("canary then --max-unavailable 1: %d slots were held at once", w.maxSlots)
	}
	for _, s := range ss {
		if _, body := get(t, http.DefaultClient, s.URL()); body != "version C\n" {
			t.Errorf("%s answers %q, want version C", s.URL(), body)
		}
		want := 2 // B and C
		if s.Cmd.Process.Pid == canaryPID {
			want = 1 // B only: the canary rolled to C at once
		}
		if got := strings.Count(s.Log.String(), "fleet: roll slot taken"); got != want {
			t.Errorf("instance %s (canary %v) took a roll slot %d times, want %d", s.URL(), s.Cmd.Process.Pid == canaryPID, got, want)
		}
	}
}

// An instance killed while it holds the only roll slot frees it by the
// slot's TTL: the other instance, waiting meanwhile, then rolls.
func TestFleetSlotHolderKilled(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	rollPublish(t, n, flags, "a", a)
	byID := map[string]*testkit.Server{}
	host, _ := os.Hostname()
	for range 2 {
		s := startRollInstance(t, n.source(), flags)
		byID[fmt.Sprintf("%s-%d", host, s.Cmd.Process.Pid)] = s
	}
	conn := rollDial(t, n)
	if r := publish(t, flags, "--max-unavailable", "1", testkit.TempFile(t, "b.wasm", b), n.source()); r.code != 0 {
		t.Fatalf("publish B: exit %d: %s", r.code, r.stderr)
	}
	var victim string
	testkit.Eventually(t, 20*time.Second, func() error {
		slots, _ := conn.Slots(t.Context())
		if len(slots) == 0 {
			return fmt.Errorf("no roll slot held yet")
		}
		victim = slots[0].Instance
		return nil
	})
	s, ok := byID[victim]
	if !ok {
		t.Fatalf("the slot holder %q is none of the instances %v", victim, byID)
	}
	s.Cmd.Process.Signal(syscall.SIGKILL)
	<-s.Exited()
	if slots, _ := conn.Slots(t.Context()); len(slots) != 1 || slots[0].Instance != victim {
		t.Fatalf("right after the kill the slots are %+v: want the victim's still held (its roll ended before the kill?)", slots)
	}
	delete(byID, victim)
	for _, other := range byID {
		other.WaitLog("fleet: waiting for a roll slot")
		testkit.Eventually(t, fleet.SlotTTL+30*time.Second, func() error {
			if _, body := get(t, http.DefaultClient, other.URL()); body != "version B\n" {
				return fmt.Errorf("the survivor answers %q, want version B once the dead holder's slot expired", body)
			}
			return nil
		})
	}
}

// publish --wait fails naming the instance that refused the version (its
// check requests / and the version answers 503 there), while the other
// instance still rolls to it; with --max-unavailable 1 the refusal frees
// the slot.
func TestFleetPublishWaitRefused(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a := versionWAT(t, "A")
	rollPublish(t, n, flags, "a", a)
	picky := startRollInstance(t, n.source(), flags, "--plugin-preflight-path", "/")
	easy := startRollInstance(t, n.source(), flags)
	waitFleetRuns(t, n.source(), flags, 2, sha(a))
	bad := wat(t, "status503")
	data, _ := os.ReadFile(bad)
	host, _ := os.Hostname()
	pickyID := fmt.Sprintf("%s-%d", host, picky.Cmd.Process.Pid)
	t0 := time.Now()
	r := publish(t, flags, "--max-unavailable", "1", "--wait", "60s", bad, n.source())
	t.Logf("publish --wait: exit %d after %v: %s", r.code, time.Since(t0).Round(time.Millisecond), r.stderr)
	if r.code != 1 || strings.TrimSpace(r.stdout) != sha(data) || !strings.Contains(r.stderr, pickyID+" ") ||
		!strings.Contains(r.stderr, "refused it") || !strings.Contains(r.stderr, "1 of 2 live instances do not run") {
		t.Errorf("publish --wait of a version one instance refuses: exit %d, stdout %q, stderr %q; want 1 naming %s", r.code, r.stdout, r.stderr, pickyID)
	}
	if resp, _ := get(t, http.DefaultClient, easy.URL()); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the other instance answers %s: want the new version's 503", resp.Status)
	}
	if _, body := get(t, http.DefaultClient, picky.URL()); body != "version A\n" {
		t.Errorf("the refusing instance answers %q, want version A still", body)
	}
}

// With plugin.watch off the mirror writes a new version but only reload
// rolls to it; then accepted.wasm (served when NATS is away at start)
// holds that version, not the one before.
func TestFleetReloadKeepsAccepted(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	rollPublish(t, n, flags, "a", a)
	cache := t.TempDir()
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	s := startServe(t, nil, append([]string{n.source(), "--listen", "127.0.0.1:0", "--workers", "1", "--control", ctl,
		"--cache-dir", cache, "--plugin-watch=false"}, flags...)...)
	src, _ := fleet.ParseSource(n.source())
	dir := fleet.DirFor(cache, src, "127.0.0.1:0")
	accepted := filepath.Join(dir, "accepted.wasm")
	testkit.Eventually(t, 10*time.Second, func() error {
		if got, _ := os.ReadFile(accepted); !bytes.Equal(got, a) {
			return fmt.Errorf("accepted.wasm holds %d bytes, want A", len(got))
		}
		return nil
	})
	rollPublish(t, n, flags, "b", b)
	testkit.Eventually(t, 20*time.Second, func() error {
		if got, _ := os.ReadFile(filepath.Join(dir, "site.wasm")); !bytes.Equal(got, b) {
			return fmt.Errorf("the mirror does not hold B yet")
		}
		return nil
	})
	if got, _ := os.ReadFile(accepted); !bytes.Equal(got, a) {
		t.Fatalf("accepted.wasm changed before any roll to B")
	}
	if r := runBin(t, nil, "reload", "--control", ctl, "--wait"); r.code != 0 {
		t.Fatalf("reload --wait: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if _, body := get(t, http.DefaultClient, s.URL()); body != "version B\n" {
		t.Errorf("after reload answers %q, want version B", body)
	}
	if got, _ := os.ReadFile(accepted); !bytes.Equal(got, b) {
		t.Errorf("after the reload accepted B, accepted.wasm holds %s, want B %s", sha(got), sha(b))
	}
}

// A version whose new workers die as they start (their self-test spins
// in an uninterruptible guest, which only the worker's exit ends) fails
// its roll; the instance goes back to A, the fleet view shows the version
// it went back from, publish --wait fails naming the instance, and the
// copy served when NATS is away at start is A again.
func TestFleetPublishWaitRollFailed(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a := versionWAT(t, "A")
	rollPublish(t, n, flags, "a", a)
	cache := t.TempDir()
	s := startRollInstanceIn(t, n.source(), cache, flags, "--plugin-interrupt=false", "--request-timeout", "300ms", "--plugin-preflight-path", "/health")
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s-%d", host, s.Cmd.Process.Pid)
	spin := wat(t, "spin")
	data, _ := os.ReadFile(spin)
	t0 := time.Now()
	r := publish(t, flags, "--wait", "45s", spin, n.source())
	t.Logf("publish --wait: exit %d after %v: %s", r.code, time.Since(t0).Round(time.Millisecond), r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, id+" ") || !strings.Contains(r.stderr, "went back from it") {
		t.Errorf("publish --wait of a version whose workers die: exit %d, stderr %q; want 1 naming %s; instance log:\n%s", r.code, r.stderr, id, s.Log.String())
	}
	reps := fleetJSON(t, n.source(), flags)
	if len(reps) != 1 || reps[0].LastReverted == nil || reps[0].LastReverted.Version != sha(data) || reps[0].Version != sha(a) {
		t.Errorf("fleet view after the failed roll: %+v; want A running and the spin version gone back from", reps)
	}
	if _, body := get(t, http.DefaultClient, s.URL()); body != "version A\n" {
		t.Errorf("answers %q, want version A", body)
	}
	src, _ := fleet.ParseSource(n.source())
	if got, _ := os.ReadFile(filepath.Join(fleet.DirFor(cache, src, "127.0.0.1:0"), "accepted.wasm")); !bytes.Equal(got, a) {
		t.Errorf("accepted.wasm holds %s after the failed roll, want A %s", sha(got), sha(a))
	}
}
