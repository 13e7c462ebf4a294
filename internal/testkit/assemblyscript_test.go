package testkit

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The AssemblyScript example builds once per test binary in a temp copy:
// the source tree gains neither node_modules nor build output.
func TestAssemblyScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm ci and asc; skipped in -short")
	}
	dir := filepath.Join(ModuleRoot(t), "examples", "hello-assemblyscript")
	before := listTree(t, dir)
	runs := guests.runs.Load()
	a := AssemblyScript(t, dir)
	if !bytes.HasPrefix(a, wasmMagic) {
		t.Fatalf("not a wasm module: %q", a[:min(len(a), 16)])
	}
	if b := AssemblyScript(t, dir); !bytes.Equal(a, b) {
		t.Error("the same plugin gave different modules")
	}
	if got := guests.runs.Load() - runs; got != 1 {
		t.Errorf("%d builds for one plugin twice, want 1", got)
	}
	if after := listTree(t, dir); !slices.Equal(before, after) {
		t.Errorf("the build changed the source tree: %v, then %v", before, after)
	}
}

// A directory outside the repository is refused, since the guest library
// could not be placed next to it.
func TestAssemblyScriptOutsideRepo(t *testing.T) {
	if childMode() == "asc-outside" {
		AssemblyScript(t, t.TempDir())
		return
	}
	out, passed := runChild(t, "asc-outside")
	wantChild(t, out, passed, false, "is not inside the repository")
}

// listTree names the entries directly in dir.
func listTree(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
