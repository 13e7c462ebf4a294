package serve

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// With Workers == InProcess the plugin the preflight loaded is the one
// that serves (the handoff): with a pool of one, one instance is ever
// initialized, not one for the check and another to serve.
func TestInProcessServesThePreflightPlugin(t *testing.T) {
	wasm := initLogGuest(t)
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	writePlugin(t, path, wasm)
	o, logs := testOptions(t, path, workers.InProcess)
	o.Host = host.Config{PoolSize: 1, CacheDir: t.TempDir()}
	startRun(t, o, logs)

	if got := get(t, "http://"+o.Listener.Addr().String()); got != "200 ok" {
		t.Fatalf("GET: %s", got)
	}
	if n := countInits(logs.String()); n != 1 {
		t.Fatalf("%d instances initialized with a pool of one, want 1 (the preflight's, served):\n%s", n, logs)
	}
	if st := status(t, o.ControlPath); !st.InProcess || st.Version != sha(wasm) {
		t.Errorf("status: in-process %v, version %.12s; want in-process on %.12s", st.InProcess, st.Version, sha(wasm))
	}
}

// handoff gives the kept plugin to the first load of its version only; a
// later load (a restart) and any other version load the snapshot. A newer
// kept plugin closes the one it replaces, and close the last one.
func TestHandoff(t *testing.T) {
	a, b, c := versionGuest(t, "handoff A"), versionGuest(t, "handoff B"), versionGuest(t, "handoff C")
	load := func(wasm []byte) *host.Plugin {
		p, err := host.Load(t.Context(), wasm, host.Config{PoolSize: 1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close(context.Background()) })
		return p
	}
	pa, pb, pc := load(a), load(b), load(c)
	var fellBack []string
	h := &handoff{}
	ld := h.load(func(_ context.Context, spec workers.Spec) (httpserve.Plugin, error) {
		fellBack = append(fellBack, spec.Version)
		return nil, errors.New("snapshot")
	})

	h.keep(pa)
	got, err := ld(t.Context(), workers.Spec{Version: sha(a)})
	if err != nil || got != pa {
		t.Fatalf("first load of the kept version: %v, %v; want the kept plugin", got, err)
	}
	if _, err := ld(t.Context(), workers.Spec{Version: sha(a)}); err == nil || len(fellBack) != 1 {
		t.Fatalf("second load of the same version did not load the snapshot (fell back for %v)", fellBack)
	}

	h.keep(pb)
	if _, err := ld(t.Context(), workers.Spec{Version: sha(a)}); err == nil || len(fellBack) != 2 {
		t.Fatalf("a load of another version than the kept one did not load the snapshot (fell back for %v)", fellBack)
	}
	h.keep(pc)
	if code := serveOnce(pb); code == http.StatusOK {
		t.Errorf("the replaced kept plugin still serves (%d); want it closed", code)
	}
	h.close()
	if code := serveOnce(pc); code == http.StatusOK {
		t.Errorf("the kept plugin still serves after close (%d)", code)
	}
	if code := serveOnce(pa); code != http.StatusOK {
		t.Errorf("the plugin handed out was closed (%d): it belongs to the server now", code)
	}
}

func serveOnce(p http.Handler) int {
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec.Code
}

// A worker gets the host configuration the primary was given, with its
// own logger, a next that reaches the upstream, and an exit on a stuck
// guest only when the guest is uninterruptible.
func TestWorkerReceivesHostConfig(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer upstream.Close()
	up, _ := url.Parse(upstream.URL)
	log := slog.New(slog.DiscardHandler)
	for _, uninterruptible := range []bool{false, true} {
		sent := host.Config{Name: "p.wasm", CacheDir: "/c", GuestConfig: []byte("cfg"), Upstream: up, PoolSize: 3,
			Uninterruptible: uninterruptible, Logger: slog.Default(), OnStuck: func(time.Duration) {}}
		o, err := Options{Plugin: "p.wasm", Host: sent, Workers: 1}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(o.Host) // as Run puts it in every worker's Spec
		if err != nil {
			t.Fatal(err)
		}
		got, err := receivedHost(raw, log)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != sent.Name || got.CacheDir != sent.CacheDir || string(got.GuestConfig) != "cfg" || got.PoolSize != 3 ||
			got.Upstream.String() != up.String() || got.Uninterruptible != uninterruptible || got.Logger != log {
			t.Errorf("received %+v, sent %+v", got, sent)
		}
		if (got.OnStuck != nil) != uninterruptible {
			t.Errorf("uninterruptible %v: OnStuck set %v", uninterruptible, got.OnStuck != nil)
		}
		if code := serveOnce(got.Next); code != http.StatusTeapot {
			t.Errorf("next answered %d, want the upstream's 418", code)
		}
	}
}

// Run refuses an uninterruptible guest in-process (nothing could stop it)
// before binding anything, and closes the listener it was given.
func TestRunRefusesUninterruptibleInProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Run(t.Context(), Options{Plugin: "never-read.wasm", Host: host.Config{Uninterruptible: true}, Listener: ln, ControlPath: "-"})
	if err == nil || !strings.Contains(err.Error(), "Uninterruptible") {
		t.Fatalf("Run: %v; want a refusal naming Uninterruptible", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the given listener is still open (Accept: %v)", err)
	}
}

// Snapshots go under Host.CacheDir/snapshots, beside the compiled code;
// without a cache directory, to a temporary directory that Run removes.
func TestSnapshotsFollowCacheDir(t *testing.T) {
	wasm := versionGuest(t, "snapshots")
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	writePlugin(t, path, wasm)
	snapshot := func(logs *testkit.Buffer) string {
		m := regexp.MustCompile(`snapshot=(\S+)`).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no snapshot path logged:\n%s", logs)
		}
		return m[1]
	}

	o, logs := testOptions(t, path, workers.InProcess)
	o.Host = host.Config{CacheDir: t.TempDir()}
	startRun(t, o, logs)
	if got, want := filepath.Dir(filepath.Dir(snapshot(logs))), filepath.Join(o.Host.CacheDir, snapshotsSubdir); got != want {
		t.Errorf("snapshot stores in %s, want %s", got, want)
	}

	o, logs = testOptions(t, path, workers.InProcess)
	ready := make(chan struct{})
	o.OnReady = func(net.Addr) { close(ready) }
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run without a cache dir: %v\n%s", err, logs)
	}
	snap := snapshot(logs)
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("snapshot while serving: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(snap))
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary snapshot directory %s left after Run: %v", root, err)
	}
}
