package unixsock

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestRemoveStale(t *testing.T) {
	dir, err := os.MkdirTemp("", "us") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	if err := RemoveStale(filepath.Join(dir, "none")); err != nil {
		t.Errorf("nothing at the path: %v", err)
	}

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, sub} {
		if err := RemoveStale(p); !errors.Is(err, ErrNotSocket) {
			t.Errorf("RemoveStale(%s) = %v, want ErrNotSocket", p, err)
		}
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}

	live := filepath.Join(dir, "live.sock")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := RemoveStale(live); !errors.Is(err, ErrInUse) {
		t.Errorf("live socket: %v, want ErrInUse", err)
	}

	stale := filepath.Join(dir, "stale.sock")
	testkit.StaleSocket(t, stale)
	if err := RemoveStale(stale); err != nil {
		t.Errorf("stale socket: %v", err)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale socket still there: %v", err)
	}
}
