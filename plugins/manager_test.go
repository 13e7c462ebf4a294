package plugins_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/plugins/watch"
)

const (
	waitEvent = 10 * time.Second       // bound for an expected event
	quietFor  = 400 * time.Millisecond // window in which no event may arrive
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

type fixture struct {
	t    *testing.T
	path string
	m    *plugins.Manager
}

// newFixture writes initial to a plugin file and creates its Manager;
// tweak, if given, adjusts the options.
func newFixture(t *testing.T, initial []byte, tweak ...func(*plugins.Options)) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plugin.wasm")
	if initial != nil {
		write(t, path, initial)
	}
	opts := plugins.Options{
		StoreDir: filepath.Join(t.TempDir(), "snapshots"),
		Watch:    watch.Options{Debounce: 50 * time.Millisecond, Stable: 30 * time.Millisecond, Poll: -1},
		Preflight: preflight.Options{
			Host:    host.Config{Logger: quietLog(), CacheDir: filepath.Join(t.TempDir(), "cache")},
			Path:    "/healthz",
			Timeout: 2 * time.Second,
		},
		Logger: quietLog(),
	}
	for _, fn := range tweak {
		fn(&opts)
	}
	m, err := plugins.New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, path: path, m: m}
}

// run starts Run and stops it when the test ends.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.m.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				f.t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			f.t.Error("Run did not return after cancel")
		}
	})
	// Wait until the watcher has had its initial look, so later writes are
	// changes, not the starting state.
	testkit.WaitFor(f.t, waitEvent, "the watcher's first look at the file", func() bool { return f.m.Stats().Watch.Checks != 0 })
}

func (f *fixture) event() plugins.Event {
	f.t.Helper()
	select {
	case ev := <-f.m.Events():
		return ev
	case <-time.After(waitEvent):
		f.t.Fatalf("no event within %v; stats %+v", waitEvent, f.m.Stats())
	}
	return plugins.Event{}
}

func (f *fixture) accepted(want []byte) plugins.Version {
	f.t.Helper()
	ev := f.event()
	if !ev.Accepted() {
		f.t.Fatalf("refused: %v", ev.Err)
	}
	checkVersion(f.t, ev.Version, want)
	if ev.Hash != ev.Version.Hash || ev.Trigger != plugins.TriggerWatch {
		f.t.Fatalf("event = %+v", ev)
	}
	return ev.Version
}

func (f *fixture) quiet() {
	f.t.Helper()
	select {
	case ev := <-f.m.Events():
		f.t.Fatalf("unexpected event %+v", ev)
	case <-time.After(quietFor):
	}
}

// checkVersion: the version names a snapshot outside the watched directory
// holding exactly want.
func checkVersion(t *testing.T, v plugins.Version, want []byte) {
	t.Helper()
	if v.Hash != store.Hash(want) || v.Size != int64(len(want)) || v.AcceptedAt.IsZero() {
		t.Fatalf("version %+v, want hash %s size %d", v, store.Hash(want)[:12], len(want))
	}
	got, err := plugins.ReadSnapshot(v.Path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("snapshot %s: %v (content equal: %v)", v.Path, err, bytes.Equal(got, want))
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	good := testwasm.WAT(t, "good")
	f := newFixture(t, good)
	v, err := f.m.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkVersion(t, v, good)
	if filepath.Dir(v.Path) != f.m.StoreDir() {
		t.Fatalf("version path %s is not in the store %s", v.Path, f.m.StoreDir())
	}
	// The watched file can now vanish: the snapshot stays.
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, v, good)
	st := f.m.Stats()
	if st.Accepted != 1 || st.Current != v || st.LastEvent == nil || st.LastEvent.Trigger != plugins.TriggerInitial {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"missing file", nil, "no such file"},
		{"empty file", []byte{}, "empty"},
		{"bad plugin", testwasm.WAT(t, "missing_export"), `missing export "handle_request"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.data)
			_, err := f.m.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load err = %v, want mention of %q", err, tc.want)
			}
			if list, _ := store.Open(f.m.StoreDir()); list != nil {
				if snaps, _ := list.List(); len(snaps) != 0 {
					t.Fatalf("refused content left %d snapshots", len(snaps))
				}
			}
		})
	}
}

// TestWatchAcceptsAndRefuses: bad versions are refused with a reason and
// the current version stays; emptied or deleted files produce nothing; the
// next good version is accepted.
func TestWatchAcceptsAndRefuses(t *testing.T) {
	v1 := testkit.HelloWAT(t, "one")
	f := newFixture(t, v1)
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.run()
	good := testwasm.WAT(t, "good")
	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte("GIF89a not a plugin"), "not a WebAssembly module"},
		{"truncated", good[:len(good)-7], "compile"},
		{"missing export", testwasm.WAT(t, "missing_export"), `missing export "handle_request"`},
		{"trap in _initialize", testwasm.WAT(t, "init_trap"), "_initialize"},
		{"hang in _initialize", testwasm.WAT(t, "init_hang"), "timed out"},
		{"exits after _start", testwasm.WAT(t, "start_exit"), "-buildmode=c-shared"},
		{"self-test 503", testwasm.WAT(t, "status503"), "GET /healthz answered 503"},
	}
	for i, b := range bad {
		write(t, f.path, b.data)
		ev := f.event()
		if ev.Accepted() || ev.Hash != store.Hash(b.data) || !strings.Contains(ev.Err.Error(), b.want) {
			t.Fatalf("%s: event %+v, want refusal mentioning %q", b.name, ev, b.want)
		}
		st := f.m.Stats()
		if st.Refused != uint64(i+1) || st.Current.Hash != store.Hash(v1) || st.LastRefusal == nil || st.LastRefusal.Hash != ev.Hash {
			t.Fatalf("%s: stats %+v", b.name, st)
		}
		if _, err := os.Stat(filepath.Join(f.m.StoreDir(), ev.Hash+store.Ext)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: refused content kept in the store (%v)", b.name, err)
		}
	}

	if err := os.Truncate(f.path, 0); err != nil {
		t.Fatal(err)
	}
	f.quiet()
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	f.quiet()

	v2 := testkit.HelloWAT(t, "two")
	write(t, f.path, v2)
	f.accepted(v2)
	f.quiet()
	st := f.m.Stats()
	if st.Accepted != 2 || st.Current.Hash != store.Hash(v2) || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReload: Reload decides on the file now; Run does not report the same
// content again; an unchanged file is not checked again.
func TestReload(t *testing.T) {
	v1, v2 := testkit.HelloWAT(t, "one"), testkit.HelloWAT(t, "two")
	f := newFixture(t, v1)
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := f.m.Reload(context.Background())
	if !ev.Accepted() || ev.Version.Hash != store.Hash(v1) || f.m.Stats().Changes != 1 {
		t.Fatalf("unchanged Reload: %+v, stats %+v", ev, f.m.Stats())
	}
	write(t, f.path, v2)
	ev = f.m.Reload(context.Background())
	if !ev.Accepted() || ev.Trigger != plugins.TriggerReload {
		t.Fatalf("Reload: %+v", ev)
	}
	checkVersion(t, ev.Version, v2)
	f.run()
	f.quiet() // v2 was decided by Reload already

	write(t, f.path, testwasm.WAT(t, "init_trap"))
	if ev := f.event(); ev.Accepted() {
		t.Fatal("trap in _initialize accepted")
	}
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	if ev := f.m.Reload(context.Background()); ev.Accepted() || !errors.Is(ev.Err, fs.ErrNotExist) {
		t.Fatalf("Reload of a missing file: %+v", ev)
	}
	if cur := f.m.Stats().Current; cur.Hash != store.Hash(v2) {
		t.Fatalf("current %s, want v2", cur.Short())
	}
}

// TestSwapStorm: 20 good versions written within 5 s; the last accepted
// version is the last written, and nothing is accepted twice.
func TestSwapStorm(t *testing.T) {
	versions := make([][]byte, 21)
	for i := range versions {
		versions[i] = testkit.HelloWAT(t, fmt.Sprintf("version %02d", i))
	}
	f := newFixture(t, versions[0])
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.run()
	seen := map[string]bool{}
	var last plugins.Version
	recv := func(ev plugins.Event) {
		if !ev.Accepted() {
			t.Fatalf("refused a good version: %v", ev.Err)
		}
		if seen[ev.Hash] {
			t.Fatalf("version %s reported twice", ev.Version.Short())
		}
		seen[ev.Hash] = true
		last = ev.Version
	}
	for i := 1; i <= 20; i++ {
		write(t, f.path, versions[i])
		end := time.After(time.Duration(i%5) * 50 * time.Millisecond)
	drain:
		for {
			select {
			case ev := <-f.m.Events():
				recv(ev)
			case <-end:
				break drain
			}
		}
	}
	want := store.Hash(versions[20])
	deadline := time.After(waitEvent)
	for last.Hash != want {
		select {
		case ev := <-f.m.Events():
			recv(ev)
		case <-deadline:
			t.Fatalf("last accepted %s, want version 20; stats %+v", last.Short(), f.m.Stats())
		}
	}
	f.quiet()
	checkVersion(t, last, versions[20])
	t.Logf("20 writes -> %d versions accepted; watch stats %+v", len(seen), f.m.Stats().Watch)
}

func TestPrune(t *testing.T) {
	versions := make([][]byte, 6)
	for i := range versions {
		versions[i] = testkit.HelloWAT(t, fmt.Sprintf("prune %d", i))
	}
	f := newFixture(t, versions[0])
	var hashes []string
	for i, data := range versions {
		write(t, f.path, data)
		ev := f.m.Reload(context.Background())
		if !ev.Accepted() {
			t.Fatal(ev.Err)
		}
		// Explicit ages: Prune's order must not depend on timer resolution.
		mt := time.Now().Add(time.Duration(i-10) * time.Minute)
		if err := os.Chtimes(ev.Version.Path, mt, mt); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, ev.Hash)
	}
	// Keep the newest 3 (5, 4, 3) and version 0, still run by a worker.
	removed, err := f.m.Prune(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{hashes[1], hashes[2]}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want versions 1 and 2", removed)
	}
	for _, i := range []int{0, 3, 4, 5} {
		if _, err := os.Stat(filepath.Join(f.m.StoreDir(), hashes[i]+store.Ext)); err != nil {
			t.Errorf("version %d pruned: %v", i, err)
		}
	}
}

// TestNewerContentSupersedesCheck: a fix written while a broken version
// hangs in preflight is checked at once; the stale check is abandoned and
// reported to nobody.
func TestNewerContentSupersedesCheck(t *testing.T) {
	v1, v2 := testkit.HelloWAT(t, "one"), testkit.HelloWAT(t, "two")
	hang := testwasm.WAT(t, "init_hang")
	f := newFixture(t, v1, func(o *plugins.Options) { o.Preflight.Timeout = time.Minute })
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.run()
	write(t, f.path, hang)
	testkit.Eventually(t, waitEvent, func() error {
		if st := f.m.Stats(); st.Checking != store.Hash(hang) {
			return fmt.Errorf("the hanging version has not reached preflight; stats %+v", st)
		}
		return nil
	})
	write(t, f.path, v2)
	f.accepted(v2) // within waitEvent, far below the one-minute preflight bound
	st := f.m.Stats()
	if st.Superseded != 1 || st.Refused != 0 || st.Checking != "" {
		t.Fatalf("stats %+v", st)
	}
	if _, err := os.Stat(filepath.Join(f.m.StoreDir(), store.Hash(hang)+store.Ext)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("abandoned content kept in the store (%v)", err)
	}
}
