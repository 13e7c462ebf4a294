package fleet_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// restartable is a JetStream server that a test stops and starts again on
// the same port with the same store.
type restartable struct {
	o  server.Options
	mu sync.Mutex
	ns *server.Server
}

func startRestartable(t *testing.T) (*restartable, fleet.Source) {
	t.Helper()
	r := &restartable{o: server.Options{Host: "127.0.0.1", Port: testkit.FreePort(t), JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: 16 << 20, NoSigs: true, NoLog: true}}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	src, err := fleet.ParseSource(r.ns.ClientURL() + "/plugins/site")
	if err != nil {
		t.Fatal(err)
	}
	return r, src
}

func (r *restartable) start() error {
	o := r.o
	ns, err := server.NewServer(&o)
	if err != nil {
		return err
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("NATS not ready after a restart")
	}
	r.mu.Lock()
	r.ns = ns
	r.mu.Unlock()
	return nil
}

func (r *restartable) stop() {
	r.mu.Lock()
	ns := r.ns
	r.mu.Unlock()
	ns.Shutdown()
	ns.WaitForShutdown()
}

// restart starts the stopped server again and waits for c to reconnect.
func (r *restartable) restart(t *testing.T, c *fleet.Conn) {
	t.Helper()
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	if !c.WaitConnected(t.Context(), 10*time.Second) {
		t.Fatal("no reconnect")
	}
}

// dialQuick connects with a 1 s call timeout: a publish against a stopped
// server gives up after its retries within 2 s.
func dialQuick(t *testing.T, src fleet.Source) *fleet.Conn {
	t.Helper()
	c, err := fleet.Dial(src, fleet.Auth{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if !c.WaitConnected(t.Context(), 10*time.Second) {
		t.Fatal("not connected")
	}
	return c
}

func publishAll(t *testing.T, c *fleet.Conn, versions ...string) []string {
	t.Helper()
	var hashes []string
	for _, v := range versions {
		h, err := c.Publish(t.Context(), []byte(v))
		if err != nil {
			t.Fatalf("publish %s: %v", v, err)
		}
		hashes = append(hashes, h)
	}
	return hashes
}

// stopAt stops r before the first publish step named step.
func stopAt(t *testing.T, r *restartable, step string) {
	var once sync.Once
	fleet.SetStepHook(t, func(s string) {
		if s == step {
			once.Do(r.stop)
		}
	})
}

// checkLive checks that the history is want (newest first) and that the
// object every instance follows holds want[0].
func checkLive(t *testing.T, c *fleet.Conn, what string, want ...string) {
	t.Helper()
	h, _, err := c.History(t.Context())
	if err != nil {
		t.Fatalf("%s: history: %v", what, err)
	}
	if !slices.Equal(h, want) {
		t.Errorf("%s: history %v, want %v", what, short(h), short(want))
	}
	if _, live, err := c.Fetch(t.Context(), "site"); err != nil || live != want[0] {
		t.Errorf("%s: the object holds %.12s (%v), want %.12s", what, live, err, want[0])
	}
}

func short(h []string) []string {
	var s []string
	for _, v := range h {
		s = append(s, v[:12])
	}
	return s
}

func rollbackTo(t *testing.T, c *fleet.Conn, what, want string) {
	t.Helper()
	got, err := c.Rollback(t.Context())
	if err != nil || got != want {
		t.Fatalf("%s: rollback = %.12s, %v; want %.12s", what, got, err, want)
	}
}

// A publish whose upload of the object fails (NATS gone) leaves the
// history as it was: it names the live version, and a rollback steps back
// from that one.
func TestPublishUploadFailsKeepsHistory(t *testing.T) {
	r, src := startRestartable(t)
	c := dialQuick(t, src)
	v := publishAll(t, c, "zero", "one")
	stopAt(t, r, "upload")
	if _, err := c.Publish(t.Context(), []byte("two")); err == nil || !strings.Contains(err.Error(), "upload of") {
		t.Fatalf("publish with NATS gone before the upload: %v; want an upload error", err)
	}
	fleet.SetStepHook(t, nil)
	r.restart(t, c)
	checkLive(t, c, "after the failed publish", v[1], v[0])
	rollbackTo(t, c, "after the failed publish", v[0])
	checkLive(t, c, "after the rollback", v[0])
}

// A publish or rollback whose object landed but whose history write failed
// counts as done: History names the live version first, and the next
// rollback steps back from it, neither skipping it nor going back to the
// version a rollback left.
func TestPublishHistoryWriteFails(t *testing.T) {
	r, src := startRestartable(t)
	c := dialQuick(t, src)
	v := publishAll(t, c, "zero", "one", "two")
	stopAt(t, r, "write history")
	_, err := c.Publish(t.Context(), []byte("three"))
	if err == nil || !strings.Contains(err.Error(), "is live but its history write failed") {
		t.Fatalf("publish with NATS gone before the history write: %v", err)
	}
	fleet.SetStepHook(t, nil)
	r.restart(t, c)
	sum := sha256.Sum256([]byte("three"))
	three := hex.EncodeToString(sum[:])
	checkLive(t, c, "after the publish whose history write failed", three, v[2], v[1], v[0])
	rollbackTo(t, c, "from the version whose history write failed", v[2])

	stopAt(t, r, "write history")
	if _, err := c.Rollback(t.Context()); err == nil {
		t.Fatal("rollback with NATS gone before the history write succeeded")
	}
	fleet.SetStepHook(t, nil)
	r.restart(t, c)
	checkLive(t, c, "after the rollback whose history write failed", v[1], v[0])
	rollbackTo(t, c, "after the rollback whose history write failed", v[0])
}

// NATS away for less than a publish's retry budget (restarted on the same
// port with the same store) costs a retry, logged, not the publish.
func TestPublishRetriesOutage(t *testing.T) {
	r, src := startRestartable(t)
	c, err := fleet.Dial(src, fleet.Auth{Timeout: 2 * time.Second}) // gives up on a try after 2 s
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var log testkit.Buffer
	c.Log = slog.New(slog.NewTextHandler(&log, nil))
	v := publishAll(t, c, "zero")
	restarted := make(chan error, 1)
	fleet.SetStepHook(t, func(step string) {
		if step == "upload" {
			r.stop()
			go func() { time.Sleep(300 * time.Millisecond); restarted <- r.start() }()
		}
	})
	one, err := c.Publish(t.Context(), []byte("one"))
	if err != nil {
		t.Fatalf("publish across a 300 ms outage: %v\nlog:\n%s", err, log.String())
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	fleet.SetStepHook(t, nil)
	checkLive(t, c, "after the outage", one, v[0])
	if !strings.Contains(log.String(), "retrying") || !strings.Contains(log.String(), "step=upload") {
		t.Errorf("no retry of the upload logged:\n%s", log.String())
	}
}

// Two publishes at once: the one whose upload lands last is live, and it is
// first in the history with the other after it; a publish whose version
// another one replaced before it wrote the history fails (its version, live
// for a moment, stays in the history below the other). No version that
// succeeded is lost, and the history's first is always the live one.
func TestPublishConcurrent(t *testing.T) {
	c := dial(t, startNATS(t))
	other := dial(t, c.Src)
	v := publishAll(t, c, "zero")
	race := func(step, mine, theirs string) (string, string, error) {
		t.Helper()
		var fired atomic.Bool
		var hb string
		fleet.SetStepHook(t, func(s string) {
			if s == step && fired.CompareAndSwap(false, true) {
				hb = publishAll(t, other, theirs)[0]
			}
		})
		ha, err := c.Publish(t.Context(), []byte(mine))
		fleet.SetStepHook(t, nil)
		return ha, hb, err
	}
	// The other publish runs all through before this one's upload: this
	// one's upload lands last, so both are published, this one last.
	a, b, err := race("upload", "a", "b")
	if err != nil {
		t.Fatalf("publish whose upload landed last: %v", err)
	}
	checkLive(t, c, "after a publish overtaken before its upload", a, b, v[0])
	// The other runs all through after this one's upload, before its
	// history write: the other is live, and this one fails saying so.
	cc, d, err := race("write history", "c", "d")
	if err == nil || !strings.Contains(err.Error(), "another publish ran meanwhile") {
		t.Fatalf("publish overtaken after its upload: %v; want it to fail", err)
	}
	if cc != "" {
		t.Errorf("a failed publish returned version %s", cc)
	}
	sum := sha256.Sum256([]byte("c"))
	checkLive(t, c, "after a publish overtaken after its upload", d, hex.EncodeToString(sum[:]), a, b, v[0])
}
