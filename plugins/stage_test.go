package plugins_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// Stage snapshots the content it read; decide checks exactly that content,
// even when the file changed in between, and records it as Load would.
func TestStageDecidesTheStagedContent(t *testing.T) {
	a, b := testkit.HelloWAT(t, "a"), testkit.HelloWAT(t, "b")
	f := newFixture(t, a)
	v, decide, err := f.m.Stage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v.Hash != store.Hash(a) {
		t.Fatalf("staged %s, want the hash of the file's content", v.Short())
	}
	if got, err := plugins.ReadSnapshot(v.Path); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("snapshot before decide: %v", err)
	}
	write(t, f.path, b) // changed while being checked
	acc, err := decide(context.Background())
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if acc.Hash != v.Hash || acc.Path != v.Path || acc.AcceptedAt.IsZero() {
		t.Fatalf("accepted %+v, want the staged %+v", acc, v)
	}
	if s := f.m.Stats(); s.Current.Hash != v.Hash || s.Accepted != 1 {
		t.Fatalf("stats after decide: %+v", s)
	}
}

// A refused staged version returns the refusal and leaves no snapshot.
func TestStageRefusal(t *testing.T) {
	f := newFixture(t, testwasm.WAT(t, "missing_export"))
	v, decide, err := f.m.Stage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decide(context.Background()); err == nil {
		t.Fatal("decide accepted a module without handle_request")
	}
	if _, err := os.Stat(v.Path); !os.IsNotExist(err) {
		t.Fatalf("refused snapshot still there: %v", err)
	}
	if s := f.m.Stats(); s.Refused != 1 || s.Current.Hash != "" {
		t.Fatalf("stats after refusal: %+v", s)
	}
}
