// Package testwasm builds the guests the plugins tests use: WAT modules
// compiled with wat2wasm and a plain Go guest built with the Go toolchain.
// No .wasm file is committed. It is imported by tests only.
package testwasm

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

//go:embed testdata/*.wat testdata/goguest/main.go
var srcFS embed.FS

var (
	mu    sync.Mutex
	cache = map[string][]byte{}
)

// RequireTool returns the path of a guest toolchain binary. It skips the
// test when the tool is missing on a developer machine and fails it when
// CI=true, where the tool must be installed.
func RequireTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s not found (install %s): %v", name, pkg, err)
	}
	tb.Skipf("%s not found (install %s); skipping", name, pkg)
	return ""
}

// WAT compiles testdata/<name>.wat and returns the module bytes.
func WAT(tb testing.TB, name string) []byte {
	tb.Helper()
	src, err := srcFS.ReadFile("testdata/" + name + ".wat")
	if err != nil {
		tb.Fatalf("no WAT guest %q: %v", name, err)
	}
	return compileWAT(tb, name, string(src))
}

// Hello returns a valid guest answering body, so tests get as many distinct
// good versions as they need.
func Hello(tb testing.TB, body string) []byte {
	tb.Helper()
	src := fmt.Sprintf(`(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) %q)
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const %d))
    (i64.const 0)))`, body, len(body))
	return compileWAT(tb, "hello-"+body, src)
}

func compileWAT(tb testing.TB, name, src string) []byte {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "wat:" + name
	if b, ok := cache[key]; ok {
		return b
	}
	tool := RequireTool(tb, "wat2wasm", "Debian package wabt")
	name = "guest"
	dir := tb.TempDir()
	in, out := filepath.Join(dir, name+".wat"), filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	if msg, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	cache[key] = b
	return b
}

// GoGuest builds testdata/goguest for wasip1: a reactor with
// -buildmode=c-shared when reactor is true, else a command that exits after
// _start.
func GoGuest(tb testing.TB, reactor bool) []byte {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := "go:command"
	args := []string{"build", "-trimpath"}
	if reactor {
		key = "go:reactor"
		args = append(args, "-buildmode=c-shared")
	}
	if b, ok := cache[key]; ok {
		return b
	}
	goTool := RequireTool(tb, "go", "the Go toolchain")
	main, err := srcFS.ReadFile("testdata/goguest/main.go")
	if err != nil {
		tb.Fatal(err)
	}
	// A module of its own, outside ours: the guest has no dependencies.
	src := tb.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), main, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module goguest\n\ngo 1.24\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(tb.TempDir(), "guest.wasm")
	cmd := exec.Command(goTool, append(args, "-o", out, ".")...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %v: %v\n%s", args, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	cache[key] = b
	return b
}
