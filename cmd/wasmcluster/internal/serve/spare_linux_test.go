package serve

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// Once the snapshot store refused a write and the Manager moved to a spare
// store, pruning after a roll still counts the stores beside the original
// one (other instances sharing cache_dir): their compiled code stays.
func TestPruneAfterSpareStoreKeepsSiblings(t *testing.T) {
	logs := &testkit.Buffer{}
	logOnFailure(t, logs)
	cache := t.TempDir()
	hcfg := host.Config{CacheDir: cache, Logger: testLogger(logs)}

	// Another instance's plugin: its snapshot in a sibling store, its code
	// compiled in the shared cache.
	other := versionGuest(t, "other")
	otherStore, err := store.Open(filepath.Join(cache, snapshotsSubdir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherStore.PutHashed(other, sha(other)); err != nil {
		t.Fatal(err)
	}
	compile(t, other, hcfg)

	path := filepath.Join(t.TempDir(), "plugin.wasm")
	writePlugin(t, path, versionGuest(t, "ours"))
	storeDir, err := plugins.StoreDirFor(filepath.Join(cache, snapshotsSubdir), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	testkit.ReadOnly(t, storeDir)
	spare := t.TempDir()
	mgr, err := plugins.New(path, plugins.Options{
		StoreDir:      storeDir,
		SpareStoreDir: func() (string, error) { return spare, nil },
		Preflight:     preflight.Options{Host: hcfg},
		Logger:        testLogger(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mgr.StoreDir() != spare {
		t.Fatalf("store %s, want the spare %s after a refused write", mgr.StoreDir(), spare)
	}

	sw := &swapper{mgr: mgr, cacheDir: cache, storesRoot: filepath.Dir(storeDir), log: testLogger(logs)}
	sw.afterRoll(control.RollStatus{}, nil)
	if !host.Cached(cache, sha(other)) {
		t.Errorf("the compiled code of a sibling store's version was pruned")
	}
}
