package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// debianRustc is Debian's rustc, the one with the wasm32 targets
// (libstd-rust-dev-wasm32). It is called by path: a rustup toolchain
// earlier on PATH has no wasm target and cannot download one here.
const debianRustc = "/usr/bin/rustc"

// rustWasmLib is where libstd-rust-dev-wasm32 puts the target's core.
const rustWasmLib = "/usr/lib/rustlib/wasm32-unknown-unknown/lib"

// rustFlags is the build of a no_std Rust plugin that abi/rust and the
// README give: a cdylib for wasm32-unknown-unknown, optimized for size,
// stripped, with a 64 KiB stack instead of rustc's 1 MiB (which would make
// every instance's memory 17 pages).
var rustFlags = []string{"--target", "wasm32-unknown-unknown", "--crate-type", "cdylib",
	"-C", "opt-level=s", "-C", "panic=abort", "-C", "strip=symbols", "-C", "link-arg=-zstack-size=65536"}

// RustWasm compiles lib.rs in dir (relative to the test's package
// directory) into a plugin with Debian's rustc, once per dir per test
// binary. Without the toolchain the test is skipped (see Require), naming
// the Debian packages to install.
func RustWasm(tb testing.TB, dir string) []byte {
	tb.Helper()
	rustc := requireRustToolchain(tb)
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := guests.get("rust\x00"+abs, func() ([]byte, error) {
		src := filepath.Join(abs, "lib.rs")
		return compileGuest(rustc, func(out string) []string {
			return append(append([]string{}, rustFlags...), "-o", out, src)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// requireRustToolchain returns Debian's rustc once it and its wasm32
// standard library are there.
func requireRustToolchain(tb testing.TB) string {
	tb.Helper()
	const pkgs = "rustc libstd-rust-dev-wasm32 lld"
	if _, err := os.Stat(debianRustc); err != nil {
		missing(tb, fmt.Sprintf("Debian's rustc not found (install Debian packages %s; rustup's rustc has no wasm target here): %v", pkgs, err))
	}
	if _, err := os.Stat(rustWasmLib); err != nil {
		missing(tb, fmt.Sprintf("rustc's wasm32 standard library not found (install Debian package libstd-rust-dev-wasm32): %v", err))
	}
	return debianRustc
}

// RequireRust returns Debian's rustc once it and its wasm32 standard
// library are installed; else the test is skipped (failed under CI=true)
// naming the packages.
func RequireRust(tb testing.TB) string {
	tb.Helper()
	return requireRustToolchain(tb)
}
