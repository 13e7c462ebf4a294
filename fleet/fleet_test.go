package fleet_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestParseSource(t *testing.T) {
	s, err := fleet.ParseSource("nats://a:4222,nats://u:p@b:4223/plugins/site")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Servers) != 2 || s.Servers[1] != "nats://u:p@b:4223" || s.Bucket != "plugins" || s.Name != "site" {
		t.Errorf("parsed %+v", s)
	}
	if got := s.String(); got != "nats://a:4222,b:4223/plugins/site" {
		t.Errorf("String() = %q: want the credentials left out", got)
	}
	for _, bad := range []string{"nats://a:4222/plugins", "nats://a:4222/plu.gins/site", "nats://a:4222/plugins/si te", "nats:///plugins/site", "http://a/b/c"} {
		if _, err := fleet.ParseSource(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseSource(%q) = %v, want an error naming it", bad, err)
		}
	}
}

// startNATS runs a JetStream server on a free loopback port.
func startNATS(t *testing.T) fleet.Source {
	t.Helper()
	ns := runNATS(t, &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: 16 << 20, NoSigs: true, NoLog: true})
	src, err := fleet.ParseSource(ns.ClientURL() + "/plugins/site")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func runNATS(t *testing.T, o *server.Options) *server.Server {
	t.Helper()
	oc := *o
	ns, err := server.NewServer(&oc)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	return ns
}

// A watching Mirror survives NATS restarting: a version published after
// the restart reaches its file.
func TestMirrorNATSRestart(t *testing.T) {
	o := &server.Options{Host: "127.0.0.1", Port: testkit.FreePort(t), JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: 16 << 20, NoSigs: true, NoLog: true}
	ns := runNATS(t, o)
	src, _ := fleet.ParseSource(ns.ClientURL() + "/plugins/site")
	c := dial(t, src)
	if _, err := c.Publish(t.Context(), []byte("one")); err != nil {
		t.Fatal(err)
	}
	m, _ := fleet.NewMirror(c, t.TempDir(), slog.New(slog.DiscardHandler))
	if err := m.Start(t.Context(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	go m.Run(t.Context())
	ns.Shutdown()
	ns.WaitForShutdown()
	runNATS(t, o)
	if !c.WaitConnected(t.Context(), 10*time.Second) {
		t.Fatal("no reconnect")
	}
	var err error
	for range 50 { // the stream may take a moment to be back after the restart
		if _, err = c.Publish(t.Context(), []byte("two")); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, m.File(), "two")
}

func dial(t *testing.T, src fleet.Source) *fleet.Conn {
	t.Helper()
	c, err := fleet.Dial(src, fleet.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if !c.WaitConnected(t.Context(), 10*time.Second) {
		t.Fatal("not connected")
	}
	return c
}

// The history keeps KeepVersions versions newest first, re-publishing one
// moves it to the front, and Rollback pops the current one.
func TestPublishHistoryRollback(t *testing.T) {
	c := dial(t, startNATS(t))
	if _, err := c.Rollback(t.Context()); err == nil || !strings.Contains(err.Error(), "no previous version") {
		t.Errorf("rollback of nothing: %v", err)
	}
	var hashes []string
	for i := range fleet.KeepVersions + 2 {
		h, err := c.Publish(t.Context(), fmt.Appendf(nil, "version %d", i))
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	h, _, err := c.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != fleet.KeepVersions || h[0] != hashes[len(hashes)-1] {
		t.Fatalf("history %d long, first %s; want %d, first the last published", len(h), h[0], fleet.KeepVersions)
	}
	got, err := c.Rollback(t.Context())
	if err != nil || got != hashes[len(hashes)-2] {
		t.Fatalf("rollback = %s, %v; want %s", got, err, hashes[len(hashes)-2])
	}
	data, hash, err := c.Fetch(t.Context(), "site")
	if err != nil || hash != got || string(data) != fmt.Sprintf("version %d", len(hashes)-2) {
		t.Errorf("after rollback the object is %q (%s), %v", data, hash, err)
	}
}

// A Mirror writes each new version into its file, and keeps the accepted
// one: a Mirror started with NATS gone serves it.
func TestMirror(t *testing.T) {
	src := startNATS(t)
	c := dial(t, src)
	if _, err := c.Publish(t.Context(), []byte("one")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "m")
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := fleet.NewMirror(c, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFile(t, m.File(), "one")
	if fi, _ := os.Stat(m.File()); fi.Mode().Perm() != 0o600 {
		t.Errorf("mirrored file mode %v, want 0600", fi.Mode().Perm())
	}
	h2, _ := c.Publish(t.Context(), []byte("two"))
	go m.Run(t.Context())
	waitFile(t, m.File(), "two")
	m.Accepted(h2)

	gone, _ := fleet.Dial(fleet.Source{Servers: []string{"nats://127.0.0.1:1"}, Bucket: src.Bucket, Name: src.Name}, fleet.Auth{})
	defer gone.Close()
	m2, _ := fleet.NewMirror(gone, dir, log)
	if err := m2.Start(t.Context(), 200*time.Millisecond); err != nil {
		t.Fatalf("start with NATS gone and a version accepted: %v", err)
	}
	waitFile(t, m2.File(), "two")
	m3, _ := fleet.NewMirror(gone, t.TempDir(), log)
	if err := m3.Start(t.Context(), 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "NATS unreachable") {
		t.Errorf("start with NATS gone and nothing accepted: %v", err)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Equal(b, []byte(want)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", path, b, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRuns(t *testing.T) {
	reps := []fleet.Report{{Version: "abcdef0123", WorkersReady: 1}, {Version: "abcdef0123", WorkersReady: 2}}
	if !fleet.Runs(reps, "abcdef0") {
		t.Error("both run it")
	}
	if fleet.Runs(reps, "abc") || fleet.Runs(nil, "abcdef0") {
		t.Error("a short prefix, or no instance, is not a match")
	}
	reps[1].WorkersReady = 0
	if fleet.Runs(reps, "abcdef0") {
		t.Error("an instance with no worker ready does not run it")
	}
}

// A canary needs more live instances than canaries; canaries that never
// run the version fail the publish within CanaryOptions.Roll, and leave no
// canary behind, so the object is unchanged and the next one can start.
func TestPublishCanaryFailures(t *testing.T) {
	c := dial(t, startNATS(t))
	old, err := c.Publish(t.Context(), []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	o := fleet.CanaryOptions{N: 1, For: time.Second, Roll: 500 * time.Millisecond}
	if _, err := c.PublishCanary(t.Context(), []byte("new"), o); err == nil || !strings.Contains(err.Error(), "needs more live instances than canaries; 0 live") {
		t.Errorf("canary with no instance: %v", err)
	}
	// Two instances that report but never roll (no server behind them).
	for _, id := range []string{"a-1", "b-2"} {
		if err := c.Put(t.Context(), fleet.Report{ID: id, Version: old, WorkersReady: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := c.PublishCanary(t.Context(), []byte("new"), o); err == nil || !strings.Contains(err.Error(), "1 of 1 canaries did not run") {
			t.Fatalf("canary that never rolls: %v", err)
		}
	}
	if _, hash, err := c.Fetch(t.Context(), "site"); err != nil || hash != old {
		t.Errorf("after failed canaries the object is %s, %v; want the old %s", hash, err, old)
	}
}
