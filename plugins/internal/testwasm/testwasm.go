// Package testwasm holds the guests the plugins tests share: WAT modules
// (embedded, so tests of any package directory find them) and a plain Go
// guest, built through internal/testkit. No .wasm file is committed. It is
// imported by tests only.
package testwasm

import (
	"embed"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

//go:embed testdata/*.wat
var srcFS embed.FS

// WAT compiles testdata/<name>.wat and returns the module bytes.
func WAT(tb testing.TB, name string) []byte {
	tb.Helper()
	src, err := srcFS.ReadFile("testdata/" + name + ".wat")
	if err != nil {
		tb.Fatalf("no WAT guest %q: %v", name, err)
	}
	return testkit.WAT(tb, string(src))
}

// GoGuest builds testdata/goguest for wasip1: a reactor with
// -buildmode=c-shared when reactor is true, else a command that exits after
// _start.
func GoGuest(tb testing.TB, reactor bool) []byte {
	tb.Helper()
	dir := filepath.Join(testkit.ModuleRoot(tb), "plugins", "internal", "testwasm", "testdata", "goguest")
	if reactor {
		return testkit.GoWasm(tb, dir)
	}
	return testkit.GoWasmCommand(tb, dir)
}
