package watch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// Test timings: short so the package stays fast, but the assertions never
// depend on them (a late look only makes a test wait longer).
var testOpts = Options{
	Debounce: 50 * time.Millisecond, Stable: 30 * time.Millisecond, MaxDelay: 500 * time.Millisecond,
	Poll: -1, Logger: slog.New(slog.DiscardHandler),
}

const (
	waitChange = 5 * time.Second        // bound for an expected change
	quietFor   = 400 * time.Millisecond // window in which no change may arrive
)

type harness struct {
	t    *testing.T
	w    *Watcher
	path string
}

// start watches path with baseline (the hash already "serving").
func start(t *testing.T, path, baseline string, mods ...func(*Options)) *harness {
	t.Helper()
	opts := testOpts
	opts.Baseline = baseline
	for _, m := range mods {
		m(&opts)
	}
	w, err := New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
		if _, ok := <-w.Changes(); ok {
			// A pending change is fine; the channel must then be closed.
			if _, ok := <-w.Changes(); ok {
				t.Error("changes channel not closed after Run returned")
			}
		}
	})
	return &harness{t: t, w: w, path: path}
}

// expect waits for the change with content want and fails on any other.
func (h *harness) expect(want []byte) Change {
	h.t.Helper()
	select {
	case c, ok := <-h.w.Changes():
		if !ok {
			h.t.Fatal("changes channel closed")
		}
		if c.Hash != store.Hash(want) || string(c.Data) != string(want) {
			h.t.Fatalf("change has content %q, want %q", c.Data, want)
		}
		if c.Path != h.w.Path() || c.Size() != int64(len(want)) {
			h.t.Fatalf("change = path %s size %d", c.Path, c.Size())
		}
		return c
	case <-time.After(waitChange):
		h.t.Fatalf("no change to %q within %v; stats %+v", want, waitChange, h.w.Stats())
	}
	return Change{}
}

// quiet fails if a change arrives within quietFor.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case c := <-h.w.Changes():
		h.t.Fatalf("unexpected change %q; stats %+v", c.Data, h.w.Stats())
	case <-time.After(quietFor):
	}
}

// settle runs act, then waits until the watcher has finished a look that
// counter counts: tests use it to be sure an ignored state (empty, missing)
// was actually looked at. The count is taken before act: a watcher quicker
// than the test may count its look before the test could read it after.
func (h *harness) settle(counter func(Stats) uint64, act func()) {
	h.t.Helper()
	before := counter(h.w.Stats())
	act()
	h.waitPast(counter, before)
}

// waitPast waits until counter exceeds n; n = 0 waits for the first look
// that counts (counters start at zero in New).
func (h *harness) waitPast(counter func(Stats) uint64, n uint64) {
	h.t.Helper()
	testkit.Eventually(h.t, waitChange, func() error {
		if st := h.w.Stats(); counter(st) <= n {
			return fmt.Errorf("watcher never looked; stats %+v", st)
		}
		return nil
	})
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

// exactlyOnce checks that each expected change was emitted once and nothing
// was hidden by coalescing.
func (h *harness) exactlyOnce(n uint64) {
	h.t.Helper()
	st := h.w.Stats()
	if st.Emitted != n || st.Coalesced != 0 {
		h.t.Fatalf("emitted %d (coalesced %d), want exactly %d", st.Emitted, st.Coalesced, n)
	}
}

func v(n int) []byte { return fmt.Appendf(nil, "plugin version %02d", n) } // same size for every n

func TestInitialContentReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, "")
	h.expect(v(1))
	h.quiet()
	h.exactlyOnce(1)
}

func TestBaselineNotReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, store.Hash(v(1)))
	h.waitPast(func(s Stats) uint64 { return s.Unchanged }, 0)
	h.quiet()
	h.exactlyOnce(0)
}

func TestFileAppearsLater(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	h := start(t, path, "")
	h.waitPast(func(s Stats) uint64 { return s.Missing }, 0)
	write(t, path, v(1))
	h.expect(v(1))
	h.quiet()
	h.exactlyOnce(1)
}

// TestTruncateNeverReported: an emptied file keeps the old version; the
// content written later is reported once; deleting is not reported either.
func TestTruncateAndDeleteNeverReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, store.Hash(v(1)))

	empty := func(s Stats) uint64 { return s.Empty }
	h.settle(empty, func() { truncate(t, path) })
	h.quiet()

	// Back to the serving content: nothing to report.
	h.settle(func(s Stats) uint64 { return s.Unchanged }, func() { write(t, path, v(1)) })
	h.quiet()

	h.settle(empty, func() { truncate(t, path) })
	write(t, path, v(2))
	h.expect(v(2))

	h.settle(func(s Stats) uint64 { return s.Missing }, func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	})
	h.quiet()
	write(t, path, v(3))
	h.expect(v(3))
	h.quiet()
	h.exactlyOnce(2)
}

// TestSlowWriter writes a file in chunks through one open descriptor, as a
// slow cp or a compiler does: the empty file is never reported and the last
// change reported is the complete content.
func TestSlowWriter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, store.Hash(v(1)))

	full := make([]byte, 64<<10)
	for i := range full {
		full[i] = byte(i * 7)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(full); off += 8 << 10 {
		if _, err := f.Write(full[off : off+8<<10]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(waitChange)
	for {
		select {
		case c := <-h.w.Changes():
			if c.Size() == 0 {
				t.Fatal("empty file reported")
			}
			if c.Hash == store.Hash(full) {
				h.quiet()
				if n := h.w.Stats().Emitted; n > 1 {
					// Possible on a badly stalled machine; never wrong, only wasteful.
					t.Logf("%d partial versions reported before the complete one", n-1)
				}
				return
			}
		case <-deadline:
			t.Fatalf("complete content never reported; stats %+v", h.w.Stats())
		}
	}
}

// TestSwapStorm: 20 writes within 5 s by mixed methods; the last change
// reported is the last content written, and every change reported is one
// that was written.
func TestSwapStorm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(0))
	h := start(t, path, store.Hash(v(0)))

	written := map[string]bool{}
	var last Change
	var got int
	recv := func(c Change) {
		if !written[c.Hash] {
			t.Fatalf("reported %q, which was never written", c.Data)
		}
		last = c
		got++
	}
	for i := 1; i <= 20; i++ {
		data := v(i)
		written[store.Hash(data)] = true
		switch i % 3 {
		case 0:
			write(t, path, data)
		case 1:
			write(t, path+".tmp", data)
			if err := os.Rename(path+".tmp", path); err != nil {
				t.Fatal(err)
			}
		case 2:
			_ = os.Remove(path)
			write(t, path, data)
		}
		// Between 0 and 200 ms apart: some writes land inside one debounce.
		end := time.After(time.Duration(i%5) * 50 * time.Millisecond)
	drain:
		for {
			select {
			case c := <-h.w.Changes():
				recv(c)
			case <-end:
				break drain
			}
		}
	}
	want := store.Hash(v(20))
	deadline := time.After(waitChange)
	for last.Hash != want {
		select {
		case c := <-h.w.Changes():
			recv(c)
		case <-deadline:
			t.Fatalf("last change %q, want %q; stats %+v", last.Data, v(20), h.w.Stats())
		}
	}
	h.quiet()
	st := h.w.Stats()
	if st.Emitted > 20 {
		t.Fatalf("emitted %d changes for 20 writes", st.Emitted)
	}
	t.Logf("20 writes -> %d changes received, stats %+v", got, st)
}

// TestNewestWins: a consumer that is not receiving gets only the newest
// change when it comes back.
func TestNewestWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, store.Hash(v(1)))
	h.settle(func(s Stats) uint64 { return s.Emitted }, func() { write(t, path, v(2)) })
	h.settle(func(s Stats) uint64 { return s.Coalesced }, func() { write(t, path, v(3)) })
	h.expect(v(3))
	h.quiet()
}

func TestMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := New(filepath.Join(t.TempDir(), "nope", "plugin.wasm"), Options{})
	if err == nil {
		t.Fatal("New on a missing directory succeeded")
	}
}

// TestDirectoryRecreated: the plugin's directory is removed and created
// again (a redeploy that replaces the whole directory). Poll notices, the
// watch is re-added, and later in-place writes are seen through fsnotify.
func TestDirectoryRecreated(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	opts := testOpts
	opts.Baseline = store.Hash(v(1))
	opts.Poll = 100 * time.Millisecond
	w, err := New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	h := &harness{t: t, w: w, path: path}

	h.settle(func(s Stats) uint64 { return s.Missing }, func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	})
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, path, v(2))
	h.expect(v(2))
	h.quiet()

	// The watch is back: the next write arrives as an fsnotify event, not
	// only through Poll.
	before := w.Stats().Events
	write(t, path, v(3))
	h.expect(v(3))
	if w.Stats().Events == before {
		t.Fatalf("no fsnotify event after the directory came back: watch not re-added; stats %+v", w.Stats())
	}
}

// TestRebase: after the consumer decided on a content the watcher never
// reported, the file going back to the reported content is a change.
func TestRebase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	h := start(t, path, store.Hash(v(1)))
	h.w.Rebase(store.Hash(v(2))) // as if v2 was read and rolled by someone else
	h.expect(v(1))               // the file does not hold v2: report it
	h.quiet()
	h.w.Rebase(store.Hash(v(1)))
	h.quiet() // the file holds the rebased content: nothing to report
	h.exactlyOnce(1)
}

// TestSettledFileNotRehashedButChangesSeen: once the file's mtime is old, a
// noisy directory does not make the watcher re-read it, and an in-place
// write of the same size is still reported, as is a Rebase.
func TestSettledFileNotRehashedButChangesSeen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, store.Hash(v(1)))
	h.waitPast(func(s Stats) uint64 { return s.Unchanged }, 0) // read and hashed once

	checks := func(s Stats) uint64 { return s.Checks }
	for i := range 3 { // noise next to the plugin
		h.settle(checks, func() { write(t, filepath.Join(dir, fmt.Sprintf("noise-%d.log", i)), []byte("x")) })
	}
	h.quiet()

	write(t, path, v(2)) // same size, in place
	h.expect(v(2))
	h.settle(checks, func() {
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	})
	h.w.Rebase(store.Hash(v(3)))
	h.expect(v(2)) // the file does not hold v3
	h.quiet()
	h.exactlyOnce(2)
}
