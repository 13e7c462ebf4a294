package serve

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// compile puts wasm's compiled code in hcfg's cache, as a preflight does.
func compile(t *testing.T, wasm []byte, hcfg host.Config) {
	t.Helper()
	p, err := host.Load(t.Context(), wasm, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Close(context.Background())
	if !host.Cached(hcfg.CacheDir, sha(wasm)) {
		t.Fatalf("%.12s not cached after a load", sha(wasm))
	}
}

// startPrimary runs a primary with n workers (this test binary, as
// RunWorker) on spec until the test ends, and waits for them to serve.
func startPrimary(t *testing.T, n int, spec workers.Spec, logs *testkit.Buffer) *workers.Primary {
	t.Helper()
	logOnFailure(t, logs)
	ready := make(chan struct{})
	pr, err := workers.NewPrimary(workers.PrimaryOptions{
		Listen: "127.0.0.1:0", Workers: n, Spec: spec, ControlPath: "-", DrainTimeout: 10 * time.Second,
		IgnoreSignals: true, Logger: testLogger(logs), OnReady: func(net.Addr) { close(ready) },
	})
	if err != nil {
		t.Fatal(err)
	}
	testkit.StartFunc(t, "primary", ready, pr.Run)
	return pr
}

// The stager starts a held worker for a version the watcher found whose
// code is compiled already, and only then: not for a version never
// compiled (the preflight compiles it, once), not for a reload; and a
// newer content without compiled code stops the worker staged before.
func TestStager(t *testing.T) {
	logs := &testkit.Buffer{}
	hcfg := host.Config{CacheDir: t.TempDir(), Logger: testLogger(logs)}
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	v1b, v2b, v3b := versionGuest(t, "stage 1"), versionGuest(t, "stage 2"), versionGuest(t, "stage 3")
	writePlugin(t, path, v1b)
	mgr, err := plugins.New(path, plugins.Options{StoreDir: t.TempDir(), Preflight: preflight.Options{Host: hcfg}, Logger: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := mgr.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wcfg, _ := json.Marshal(hcfg)
	st := &stager{cacheDir: hcfg.CacheDir, specOf: func(v plugins.Version) workers.Spec {
		return workers.Spec{Version: v.Hash, PluginPath: v.Path, Config: wcfg}
	}}
	st.onStage(v1, plugins.TriggerWatch) // before the primary exists: nothing to start
	pr := startPrimary(t, 1, st.specOf(v1), logs)
	st.pr.Store(pr)
	stageNext := func(b []byte) plugins.Version {
		writePlugin(t, path, b)
		v, _, err := mgr.Stage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	only := func(what string) {
		t.Helper()
		if ws := pr.Status().Workers; len(ws) != 1 || ws[0].Version != v1.Hash {
			t.Fatalf("%s: workers %+v; want only the one on v1", what, ws)
		}
	}

	v2 := stageNext(v2b)
	st.onStage(v2, plugins.TriggerWatch)
	only("a version never compiled")
	compile(t, v2b, hcfg)
	st.onStage(v2, plugins.TriggerReload)
	only("a reload")

	st.onStage(v2, plugins.TriggerWatch)
	ws := pr.Status().Workers
	if len(ws) != 2 || ws[1].State != "starting" || ws[1].Version != v2.Hash {
		t.Fatalf("a watched version compiled before: workers %+v; want v1's and a starting one on v2 %.12s", ws, v2.Hash)
	}
	v3 := stageNext(v3b)
	st.onStage(v3, plugins.TriggerWatch)
	testkit.WaitFor(t, 20*time.Second, "the worker staged for v2 to stop", func() bool {
		ws := pr.Status().Workers
		return len(ws) == 1 && ws[0].Version == v1.Hash
	})
}

// With Watch, every content that passes preflight is rolled out; a
// refused one only shows in status while the old version serves on; and
// the rolls prune the snapshots and compiled code of old versions.
func TestWatchRollsAcceptedVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	names := []string{"A", "B", "C", "D", "E"}
	guests := map[string][]byte{}
	for _, n := range names {
		guests[n] = versionGuest(t, "watched "+n)
	}
	writePlugin(t, path, guests["A"])
	o, logs := testOptions(t, path, 1)
	o.Host = host.Config{CacheDir: t.TempDir()}
	o.Watch = true
	startRun(t, o, logs)
	url := "http://" + o.Listener.Addr().String()
	if got := get(t, url); got != "200 version watched A\n" {
		t.Fatalf("GET: %q", got)
	}
	if p := status(t, o.ControlPath).Plugin; p == nil || !p.Watching || p.Accepted != sha(guests["A"]) || p.Path != path {
		t.Fatalf("plugin status %+v; want %s watched, A accepted", p, path)
	}

	garbage := []byte("not wasm")
	writePlugin(t, path, garbage)
	testkit.WaitFor(t, 30*time.Second, "the refusal in status", func() bool {
		p := status(t, o.ControlPath).Plugin
		return p.LastRefused != nil && p.LastRefused.Version == sha(garbage) && p.NRefused == 1
	})
	if st := status(t, o.ControlPath); st.Version != sha(guests["A"]) || get(t, url) != "200 version watched A\n" {
		t.Fatalf("after a refused content: version %.12s; want A serving on", st.Version)
	}

	for _, n := range names[1:] {
		writePlugin(t, path, guests[n])
		testkit.WaitFor(t, 60*time.Second, "the roll to "+n, func() bool { return allOn(status(t, o.ControlPath), sha(guests[n]), 1) })
		if got := get(t, url); got != "200 version watched "+n+"\n" {
			t.Fatalf("after the roll to %s: GET %q", n, got)
		}
	}
	// Three snapshots are kept besides the one in use, so A's went, and
	// its compiled code with it; E's stays.
	testkit.WaitFor(t, 20*time.Second, "A's compiled code pruned", func() bool { return !host.Cached(o.Host.CacheDir, sha(guests["A"])) })
	if !host.Cached(o.Host.CacheDir, sha(guests["E"])) {
		t.Errorf("the serving version's compiled code was pruned")
	}
	if p := status(t, o.ControlPath).Plugin; p.NAccepted != 5 || p.Accepted != sha(guests["E"]) {
		t.Errorf("plugin status %+v; want 5 accepted, E last", p)
	}
}

// After a roll the swapper keeps the snapshots in use and the newest few,
// and the compiled code of every version with a snapshot in any store
// beside its own (other instances sharing the cache); it removes the rest.
func TestAfterRollPrunes(t *testing.T) {
	logs := &testkit.Buffer{}
	stores := t.TempDir()
	hcfg := host.Config{CacheDir: t.TempDir(), Logger: testLogger(logs)}
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	mgr, err := plugins.New(path, plugins.Options{StoreDir: filepath.Join(stores, "ours"), KeepSnapshots: 1,
		Preflight: preflight.Options{Host: hcfg}, Logger: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	g := map[string][]byte{}
	for i, n := range []string{"x1", "x2", "x3"} { // x3 ends up current
		g[n] = versionGuest(t, "prune "+n)
		writePlugin(t, path, g[n])
		ev := mgr.Reload(t.Context())
		if ev.Err != nil {
			t.Fatal(ev.Err)
		}
		// Oldest first, unambiguously.
		at := time.Now().Add(time.Duration(i-3) * time.Minute)
		if err := os.Chtimes(ev.Version.Path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	theirs, err := store.Open(filepath.Join(stores, "theirs"))
	if err != nil {
		t.Fatal(err)
	}
	g["theirs"], g["orphan"] = versionGuest(t, "prune theirs"), versionGuest(t, "prune orphan")
	if _, err := theirs.Put(g["theirs"]); err != nil {
		t.Fatal(err)
	}
	compile(t, g["theirs"], hcfg)
	compile(t, g["orphan"], hcfg)

	sw := &swapper{mgr: mgr, cacheDir: hcfg.CacheDir, storesRoot: stores, log: testLogger(logs)}
	sw.afterRoll(control.RollStatus{}, []string{sha(g["x2"])})
	for n, want := range map[string]bool{"x1": false, "x2": true, "x3": true, "theirs": true, "orphan": false} {
		if got := host.Cached(hcfg.CacheDir, sha(g[n])); got != want {
			t.Errorf("%s: compiled code kept %v, want %v", n, got, want)
		}
	}
	snaps, err := store.Open(mgr.StoreDir())
	if err != nil {
		t.Fatal(err)
	}
	list, _ := snaps.List()
	if len(list) != 2 || list[0].Hash != sha(g["x3"]) || list[1].Hash != sha(g["x2"]) {
		t.Errorf("snapshots left %+v; want x3 (newest) and x2 (in use)", list)
	}
}
