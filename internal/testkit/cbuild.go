package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cFlags is the build of a C plugin that the README and abi/c/wasmcluster.h
// give: a WASI reactor (crt1-reactor.o exports _initialize, and no main is
// needed), optimized and stripped.
var cFlags = []string{"--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-O2", "-Wl,--strip-all"}

// wasiLibcHeader is where Debian's wasi-libc puts the C library of the
// sysroot in cFlags.
const wasiLibcHeader = "/usr/include/wasm32-wasi/stdlib.h"

// CWasm compiles the .c files in dir (relative to the test's package
// directory) into a plugin with clang and wasi-libc, with abi/c on the
// include path for wasmcluster.h, plus flags (such as "-DVERSION=2"). It
// builds once per dir and flags. Without the toolchain the test is skipped
// (see Require), naming the Debian package of the missing part.
func CWasm(tb testing.TB, dir string, flags ...string) []byte {
	tb.Helper()
	clang := requireCToolchain(tb)
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	include := filepath.Join(ModuleRoot(tb), "abi", "c")
	b, err := guests.get("c\x00"+abs+"\x00"+strings.Join(flags, "\x00"), func() ([]byte, error) {
		srcs, err := filepath.Glob(filepath.Join(abs, "*.c"))
		if err != nil || len(srcs) == 0 {
			return nil, fmt.Errorf("no .c files in %s", dir)
		}
		return compileGuest(clang, func(out string) []string {
			args := append(append(append(append([]string{}, cFlags...), "-I", include), flags...), "-o", out)
			return append(args, srcs...)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// requireCToolchain returns clang's path once clang, wasm-ld, wasi-libc and
// the wasm32 compiler runtime are all there: a machine with clang for
// native code often lacks the other three, and clang's link error would not
// say which package to install.
func requireCToolchain(tb testing.TB) string {
	tb.Helper()
	clang := Require(tb, "clang")
	Require(tb, "wasm-ld")
	if _, err := os.Stat(wasiLibcHeader); err != nil {
		missing(tb, fmt.Sprintf("wasi-libc not found (install Debian package wasi-libc): %v", err))
	}
	out, err := exec.Command(clang, "--target=wasm32-wasi", "-print-libgcc-file-name").Output()
	rt := strings.TrimSpace(string(out))
	if err == nil {
		_, err = os.Stat(rt)
	}
	if err != nil {
		missing(tb, fmt.Sprintf("the wasm32 compiler runtime %s not found (install Debian package libclang-rt-N-dev-wasm32, N = clang's major version): %v", rt, err))
	}
	return clang
}

// RequireC returns clang's path once the whole C toolchain of CWasm is
// installed (clang, wasm-ld, wasi-libc, the wasm32 runtime); else the test
// is skipped (failed under CI=true) naming the packages.
func RequireC(tb testing.TB) string {
	tb.Helper()
	return requireCToolchain(tb)
}
