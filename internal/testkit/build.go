package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Guests are built from source on first use and kept in memory for the rest
// of the test binary's life; no .wasm file is committed. Each build runs in
// a temp dir of its own that is gone once the bytes are read.
var guests memo[[]byte]

// WAT compiles WAT source text with wat2wasm and returns the module, once
// per distinct source. Without wat2wasm the test is skipped (see Require).
func WAT(tb testing.TB, src string) []byte {
	tb.Helper()
	return compileWAT(tb, "guest.wat", src)
}

// WATFile compiles the WAT file at path (relative to the test's package
// directory), once per distinct content.
func WATFile(tb testing.TB, path string) []byte {
	tb.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read WAT guest: %v", err)
	}
	return compileWAT(tb, filepath.Base(path), string(src))
}

// HelloWAT returns the smallest guest that serves: every request is
// answered 200 with body, by handle_request alone. Each body is a distinct
// module, so a test gets as many good versions of a plugin as it needs.
func HelloWAT(tb testing.TB, body string) []byte {
	tb.Helper()
	return WAT(tb, fmt.Sprintf(`(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) %q)
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const %d))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`, body, len(body)))
}

// compileWAT compiles src, naming it name in wat2wasm's messages.
func compileWAT(tb testing.TB, name, src string) []byte {
	tb.Helper()
	tool := Require(tb, "wat2wasm")
	b, err := guests.get("wat\x00"+src, func() ([]byte, error) {
		return inTempDir(func(dir string) ([]byte, error) {
			in, out := filepath.Join(dir, name), filepath.Join(dir, "guest.wasm")
			if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
				return nil, err
			}
			if msg, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("wat2wasm %s: %w\n%s", name, err, msg)
			}
			return os.ReadFile(out)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// GoWasm builds the Go main package in dir (relative to the test's package
// directory) as a plugin: GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared (a
// reactor), -trimpath, plus flags (such as "-ldflags=-X main.version=v2").
// It builds once per dir and flags. The build runs inside dir, so a go.mod
// there applies.
func GoWasm(tb testing.TB, dir string, flags ...string) []byte {
	tb.Helper()
	return goBuild(tb, dir, append([]string{"-buildmode=c-shared"}, flags...))
}

// GoWasmCommand is GoWasm without -buildmode=c-shared: a WASI command whose
// _start runs main and exits, the wrong way to build a plugin, for tests of
// how that is refused.
func GoWasmCommand(tb testing.TB, dir string, flags ...string) []byte {
	tb.Helper()
	return goBuild(tb, dir, flags)
}

func goBuild(tb testing.TB, dir string, flags []string) []byte {
	tb.Helper()
	goTool := Require(tb, "go")
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := guests.get("go\x00"+abs+"\x00"+strings.Join(flags, "\x00"), func() ([]byte, error) {
		return inTempDir(func(tmp string) ([]byte, error) {
			out := filepath.Join(tmp, "guest.wasm")
			args := append(append([]string{"build", "-trimpath"}, flags...), "-o", out, ".")
			cmd := exec.Command(goTool, args...)
			cmd.Dir = abs
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, msg)
			}
			return os.ReadFile(out)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// inTempDir runs f in a fresh temp dir and removes the dir afterwards.
func inTempDir(f func(dir string) ([]byte, error)) ([]byte, error) {
	dir, err := os.MkdirTemp("", "testkit-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	return f(dir)
}

// compileGuest runs tool with the arguments args gives for an output
// path, in a temp dir (so a compiler leaves nothing in the tree), and
// returns the module written there; a failure carries the command line and
// the compiler's output.
func compileGuest(tool string, args func(out string) []string) ([]byte, error) {
	return inTempDir(func(tmp string) ([]byte, error) {
		out := filepath.Join(tmp, "guest.wasm")
		a := args(out)
		cmd := exec.Command(tool, a...)
		cmd.Dir = tmp
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s %s: %w\n%s", tool, strings.Join(a, " "), err, msg)
		}
		return os.ReadFile(out)
	})
}

// TempFile writes data to a file called name in the test's temp dir and
// returns its path, for commands that take a module file.
func TempFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
