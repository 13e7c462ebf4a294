package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// Special files are refused from their stat: a FIFO without a writer
// would block an open for reading, /dev/zero never ends.
func TestReadFileRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "p.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", t.TempDir()} {
		if _, err := ReadFile(t.Context(), path, Rules{}); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s): %v, want ErrNotRegular", path, err)
		}
	}
	// A symlink to a regular file is fine (a ConfigMap mount).
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "real.wasm"), []byte("abc"), 0o644)
	link := filepath.Join(dir, "link.wasm")
	if err := os.Symlink("real.wasm", link); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(t.Context(), link, Rules{}); err != nil || string(b) != "abc" {
		t.Errorf("ReadFile(symlink) = %q, %v", b, err)
	}
}

func TestReadFileMaxSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.wasm")
	writeFile(t, path, make([]byte, 100), 0o644)
	if _, err := ReadFile(t.Context(), path, Rules{MaxSize: 99}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100 bytes with MaxSize 99: %v, want ErrTooLarge", err)
	}
	if b, err := ReadFile(t.Context(), path, Rules{MaxSize: 100}); err != nil || len(b) != 100 {
		t.Errorf("100 bytes with MaxSize 100: %d bytes, %v", len(b), err)
	}
	// Larger than one chunk, so the buffer handling past a chunk runs.
	writeFile(t, path, make([]byte, 3*readChunk+7), 0o644)
	if b, err := ReadFile(t.Context(), path, Rules{}); err != nil || len(b) != 3*readChunk+7 {
		t.Errorf("3 chunks + 7: %d bytes, %v", len(b), err)
	}
}

// A cancelled context stops the read of a large file.
func TestReadFileStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparse.wasm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ReadFile(ctx, path, Rules{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadFile with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestCheckOwnership(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, dirMode, fileMode os.FileMode) string {
		t.Helper()
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "p.wasm")
		writeFile(t, path, []byte("x"), fileMode)
		if err := os.Chmod(dir, dirMode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ok := mk("ok", 0o755, 0o644)
	for _, c := range []struct {
		path   string
		secure bool
	}{
		{ok, true},
		{mk("groupdir", 0o775, 0o644), false},
		{mk("otherfile", 0o755, 0o646), false},
		{mk("sticky", os.ModeSticky|0o777, 0o644), true},
		{filepath.Join(base, "missing", "p.wasm"), true}, // ReadFile reports it
	} {
		err := CheckOwnership(c.path)
		if c.secure && err != nil || !c.secure && !errors.Is(err, ErrInsecure) {
			t.Errorf("CheckOwnership(%s) = %v, want secure=%v", c.path, err, c.secure)
		}
	}

	// A symlink from a safe directory to a file in an open one, through a
	// directory link as a ConfigMap has it: where the bytes are counts.
	open := mk("open", 0o777, 0o644)
	link := filepath.Join(filepath.Dir(ok), "data")
	if err := os.Symlink(filepath.Dir(open), link); err != nil {
		t.Fatal(err)
	}
	via := filepath.Join(filepath.Dir(ok), "via.wasm")
	if err := os.Symlink(filepath.Join("data", "p.wasm"), via); err != nil {
		t.Fatal(err)
	}
	if err := CheckOwnership(via); !errors.Is(err, ErrInsecure) {
		t.Errorf("symlink into an open directory: %v, want ErrInsecure", err)
	}

	if os.Geteuid() != 0 {
		return // only root can give a file away
	}
	foreign := mk("foreign", 0o755, 0o644)
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := CheckOwnership(foreign); !errors.Is(err, ErrInsecure) {
		t.Errorf("file owned by uid 65534: %v, want ErrInsecure", err)
	}
}
