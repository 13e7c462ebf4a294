package gobuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestBuildHelloIntoCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go plugin (several seconds)")
	}
	cache := t.TempDir()
	res, err := Build(testCtx(t), "../../examples/hello", Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != res.Hash || filepath.Base(res.Path) != got+".wasm" {
		t.Fatalf("path %s hash %s, content hash %s", res.Path, res.Hash, got)
	}
	if filepath.Dir(res.Path) != cache || res.Size != int64(len(wasm)) {
		t.Fatalf("result %+v", res)
	}
	ex, err := ReadExports(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"_initialize", "handle_request", "handle_response", "memory"} {
		if _, ok := ex.Names[name]; !ok {
			t.Errorf("missing export %q in %v", name, ex.Names)
		}
	}
	if _, ok := ex.Names["_start"]; ok {
		t.Error("c-shared module exports _start")
	}
	// No temp files are left behind in the cache.
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want 1", len(entries))
	}

	out := filepath.Join(t.TempDir(), "hello.wasm")
	res2, err := BuildFile(testCtx(t), "../../examples/hello", out, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Hash != res.Hash {
		t.Errorf("rebuild changed the hash: %s != %s (builds must be reproducible with -trimpath)", res2.Hash, res.Hash)
	}
	if b, _ := os.ReadFile(out); string(b) != string(wasm) {
		t.Error("BuildFile output differs from the cached module")
	}
}

// writeModule creates a throwaway module with one main package.
func writeModule(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/p\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBuildCompilerErrorIsReported(t *testing.T) {
	dir := writeModule(t, "package main\n\nfunc main() { var x int = \"not an int\"; _ = x }\n")
	_, err := Build(testCtx(t), dir, Options{CacheDir: t.TempDir()})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want *BuildError", err)
	}
	if !strings.Contains(err.Error(), "main.go:3") || !strings.Contains(err.Error(), "cannot use") {
		t.Errorf("error does not carry the compiler message:\n%v", err)
	}
}

func TestBuildHintsAtMissingModule(t *testing.T) {
	dir := t.TempDir() // no go.mod
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	opts := Options{CacheDir: t.TempDir(), Env: []string{"GOFLAGS=", "GO111MODULE=on", "GOWORK=off"}}
	_, err := Build(testCtx(t), dir, opts)
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "hint: a plugin needs a Go module") {
		t.Fatalf("err = %v, want a BuildError with a go mod init hint", err)
	}
}

func TestBuildRefusesNonMainPackage(t *testing.T) {
	dir := writeModule(t, "package lib\n\nfunc F() {}\n")
	_, err := Build(testCtx(t), dir, Options{CacheDir: t.TempDir()})
	if !errors.Is(err, ErrNotMain) || !strings.Contains(err.Error(), "package lib") {
		t.Fatalf("err = %v, want ErrNotMain naming the package", err)
	}
}

// A plain Go program builds fine but exports no handle_request.
func TestBuildRefusesModuleWithoutHandler(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module")
	}
	dir := writeModule(t, "package main\n\nfunc main() {}\n")
	_, err := Build(testCtx(t), dir, Options{CacheDir: t.TempDir()})
	if !errors.Is(err, ErrNoHandler) {
		t.Fatalf("err = %v, want ErrNoHandler", err)
	}
}

// A plugin built the wrong way (without -buildmode=c-shared) is recognised.
func TestCheckModuleCommandBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module")
	}
	err := CheckModule(testkit.GoWasmCommand(t, "../../examples/hello", "-ldflags=-s -w"))
	if !errors.Is(err, ErrCommandModule) || !strings.Contains(err.Error(), "-buildmode=c-shared") {
		t.Fatalf("err = %v, want ErrCommandModule saying how to fix it", err)
	}
}

func TestIsPackageDir(t *testing.T) {
	if !IsPackageDir("../../examples/hello") {
		t.Error("examples/hello is a package dir")
	}
	if IsPackageDir("gobuild.go") || IsPackageDir(t.TempDir()) || IsPackageDir("/nonexistent") {
		t.Error("file, empty dir or missing path taken for a package dir")
	}
}

func TestReadExportsRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("\x7fELF\x02\x01\x01\x00"), []byte("\x00asm\x01\x00\x00\x00\x07\x05\x01")} {
		if _, err := ReadExports(b); err == nil {
			t.Errorf("ReadExports(%q) = nil error", b)
		}
	}
}

// A minimal hand-assembled module: exports memory and handle_request.
var minimalPlugin = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x05\x01\x60\x00\x01\x7e" + // type: () -> i64
	"\x03\x02\x01\x00" + // func 0: type 0
	"\x05\x03\x01\x00\x01" + // memory: min 1
	"\x07\x1b\x02\x06memory\x02\x00\x0ehandle_request\x00\x00" +
	"\x0a\x06\x01\x04\x00\x42\x01\x0b") // code: i64.const 1

func TestCheckModuleMinimal(t *testing.T) {
	if err := CheckModule(minimalPlugin); err != nil {
		t.Fatal(err)
	}
}

func FuzzReadExports(f *testing.F) {
	f.Add(minimalPlugin)
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadExports(b) // must not panic or hang
		_ = CheckModule(b)
	})
}
