package plugins_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// A snapshot store that refuses writes moves the Manager to the spare
// store; the version accepted before, whose snapshot stays in the first
// store, is still the current one: a Reload of that content is
// "unchanged", not a second check and acceptance.
func TestSpareStore(t *testing.T) {
	v1 := testkit.HelloWAT(t, "one")
	spare := filepath.Join(t.TempDir(), "spare")
	spares := 0
	f := newFixture(t, v1, func(o *plugins.Options) {
		o.SpareStoreDir = func() (string, error) { spares++; return spare, nil }
	})
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.ReadOnly(t, f.m.StoreDir())

	// A refused version still has to be snapshotted first: that write
	// moves the store.
	write(t, f.path, testwasm.WAT(t, "missing_export"))
	if ev := f.m.Reload(context.Background()); ev.Accepted() {
		t.Fatal("missing export accepted")
	}
	if f.m.StoreDir() != spare || spares != 1 {
		t.Fatalf("store %s after a refused write (spare asked %d times), want %s", f.m.StoreDir(), spares, spare)
	}

	write(t, f.path, v1)
	accepted := f.m.Stats().Accepted
	ev := f.m.Reload(context.Background())
	if !ev.Accepted() || ev.Version.Hash != store.Hash(v1) {
		t.Fatalf("Reload of the current content: %+v", ev)
	}
	if got := f.m.Stats().Accepted; got != accepted {
		t.Errorf("the current version was checked and accepted again (%d acceptances, was %d)", got, accepted)
	}

	v2 := testkit.HelloWAT(t, "two")
	write(t, f.path, v2)
	ev = f.m.Reload(context.Background())
	if !ev.Accepted() {
		t.Fatalf("Reload of a new version on the spare store: %v", ev.Err)
	}
	checkVersion(t, ev.Version, v2)
	if filepath.Dir(ev.Version.Path) != spare {
		t.Errorf("snapshot %s, want it in the spare store %s", ev.Version.Path, spare)
	}
}
