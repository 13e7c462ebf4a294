package host_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestPruneCache: entries of versions not kept are removed, kept ones and
// unrelated files stay, and a kept version still loads from its entry.
func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	a, err := host.New(context.Background(), wat(t, "hello"), host.Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a.Close(context.Background())
	b, err := host.New(context.Background(), wat(t, "next"), host.Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b.Close(context.Background())
	other := filepath.Join(dir, "not-a-version")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := host.PruneCache(dir, a.Hash()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		filepath.Join(dir, a.Hash()): true,
		filepath.Join(dir, b.Hash()): false,
		other:                        true,
	} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", path, err == nil, want)
		}
	}
	if err := host.PruneCache(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing cache dir: %v", err)
	}
}
