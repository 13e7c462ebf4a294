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
func start(t *testing.T, path, baseline string) *harness {
	t.Helper()
	opts := testOpts
	opts.Baseline = baseline
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

// settle waits until the watcher has finished a look after now: tests use it
// to be sure an ignored state (empty, missing) was actually looked at.
func (h *harness) settle(counter func(Stats) uint64) {
	h.t.Helper()
	before := counter(h.w.Stats())
	deadline := time.Now().Add(waitChange)
	for counter(h.w.Stats()) == before {
		if time.Now().After(deadline) {
			h.t.Fatalf("watcher never looked; stats %+v", h.w.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
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
	h.settle(func(s Stats) uint64 { return s.Unchanged })
	h.quiet()
	h.exactlyOnce(0)
}

func TestFileAppearsLater(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	h := start(t, path, "")
	h.settle(func(s Stats) uint64 { return s.Missing })
	write(t, path, v(1))
	h.expect(v(1))
	h.quiet()
	h.exactlyOnce(1)
}

// TestReplacementMethods replaces the file in every way users do, each once
// with new content (detected exactly once) and once with the same content
// (not reported).
func TestReplacementMethods(t *testing.T) {
	methods := []struct {
		name    string
		replace func(t *testing.T, path string, data []byte)
	}{
		{"WriteFile", func(t *testing.T, path string, data []byte) { write(t, path, data) }},
		{"cp", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(t.TempDir(), "src")
			write(t, src, data)
			run(t, "cp", src, path)
		}},
		{"cat redirect", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(t.TempDir(), "src")
			write(t, src, data)
			run(t, "sh", "-c", `cat "$1" > "$2"`, "sh", src, path)
		}},
		{"rename in same dir", func(t *testing.T, path string, data []byte) {
			tmp := path + ".tmp"
			write(t, tmp, data)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"mv from elsewhere", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(filepath.Dir(path), "..", "build-out")
			write(t, src, data)
			run(t, "mv", "-f", src, path)
		}},
		{"delete then create", func(t *testing.T, path string, data []byte) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			write(t, path, data)
		}},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "plugins")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "plugin.wasm")
			write(t, path, v(1))
			h := start(t, path, store.Hash(v(1)))

			m.replace(t, path, v(2))
			h.expect(v(2))
			h.quiet()
			h.exactlyOnce(1)

			m.replace(t, path, v(2)) // same bytes again
			h.quiet()
			h.exactlyOnce(1)

			m.replace(t, path, v(3))
			h.expect(v(3))
			h.quiet()
			h.exactlyOnce(2)
		})
	}
}

// TestConfigMapSymlinkFlip replays what the kubelet does: the file is a
// symlink through ..data, which is flipped atomically to a new directory,
// and the old directory is removed.
func TestConfigMapSymlinkFlip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	version := func(n int, data []byte) {
		ts := fmt.Sprintf("..2026_11_25_01_00_%02d.000000%d", n, n)
		if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, ts, "plugin.wasm"), data)
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(ts, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			prev := fmt.Sprintf("..2026_11_25_01_00_%02d.000000%d", n-1, n-1)
			if err := os.RemoveAll(filepath.Join(dir, prev)); err != nil {
				t.Fatal(err)
			}
		}
	}
	version(1, v(1))
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.Symlink(filepath.Join("..data", "plugin.wasm"), path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, store.Hash(v(1)))

	version(2, v(2))
	h.expect(v(2))
	h.quiet()
	version(3, v(3))
	h.expect(v(3))
	h.quiet()
	version(4, v(3)) // a flip to identical content is not a change
	h.quiet()
	h.exactlyOnce(2)
}

// TestSymlinkTargetWrittenInPlace covers a plugin path that is a symlink to a
// build output in another directory, rewritten in place there.
func TestSymlinkTargetWrittenInPlace(t *testing.T) {
	t.Parallel()
	build := t.TempDir()
	target := filepath.Join(build, "out.wasm")
	write(t, target, v(1))
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, store.Hash(v(1)))
	write(t, target, v(2))
	h.expect(v(2))
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

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	h.settle(func(s Stats) uint64 { return s.Empty })
	h.quiet()

	write(t, path, v(1)) // back to the serving content: nothing to report
	h.settle(func(s Stats) uint64 { return s.Unchanged })
	h.quiet()

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	h.settle(func(s Stats) uint64 { return s.Empty })
	write(t, path, v(2))
	h.expect(v(2))

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.settle(func(s Stats) uint64 { return s.Missing })
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
	write(t, path, v(2))
	h.settle(func(s Stats) uint64 { return s.Emitted })
	write(t, path, v(3))
	h.settle(func(s Stats) uint64 { return s.Coalesced })
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

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	h.settle(func(s Stats) uint64 { return s.Missing })
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

// TestGoBuildOutput: `go build -o plugin.wasm` straight into the watched
// path (the toolchain writes elsewhere, then moves or copies the result
// into place) is reported once per build.
func TestGoBuildOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain; skipped in -short")
	}
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go not in PATH: %v", err)
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "go.mod"), []byte("module buildme\n\ngo 1.24\n"))
	write(t, filepath.Join(src, "main.go"), []byte("package main\n\nvar v string\n\nfunc main() { println(v) }\n"))
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	build := func(n int) []byte {
		t.Helper()
		cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-X main.v="+fmt.Sprint(n), "-o", path, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first := build(1)
	h := start(t, path, "")
	h.expect(first)
	second := build(2)
	h.expect(second)
	h.quiet()
	h.exactlyOnce(2)
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
