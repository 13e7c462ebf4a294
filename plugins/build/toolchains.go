package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Debian's Rust toolchain, called by path: a rustup toolchain earlier on
// PATH has no wasm target and cannot download one here.
const (
	rustc       = "/usr/bin/rustc"
	cargo       = "/usr/bin/cargo"
	rustWasmLib = "/usr/lib/rustlib/wasm32-unknown-unknown/lib"
)

// wasiLibcHeader is where Debian's wasi-libc keeps the C library.
const wasiLibcHeader = "/usr/include/wasm32-wasi/stdlib.h"

// CFlags build a C plugin: a WASI reactor (crt1-reactor.o exports
// _initialize; without it the link wants a main, and with a main every
// export call re-runs the constructors), optimized and stripped.
var CFlags = []string{"--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-O2", "-Wl,--strip-all"}

// RustFlags build a no_std Rust plugin: a cdylib for wasm32-unknown-
// unknown, optimized for size, stripped, with a 64 KiB stack instead of
// rustc's 1 MiB (which makes every instance's memory 17 pages).
var RustFlags = []string{"--target", "wasm32-unknown-unknown", "--crate-type", "cdylib",
	"-C", "opt-level=s", "-C", "panic=abort", "-C", "strip=symbols", "-C", "link-arg=-zstack-size=65536"}

// installHint says how to install a tool the builder runs.
func installHint(tool string) string {
	switch filepath.Base(tool) {
	case "clang", "wasm-ld":
		return "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32"
	case "rustc":
		return "apt-get install rustc libstd-rust-dev-wasm32 lld; it must be Debian's /usr/bin/rustc, rustup's has no wasm target"
	case "cargo":
		return "apt-get install cargo rustc libstd-rust-dev-wasm32 lld"
	case "npm", "node":
		return "apt-get install nodejs npm (assemblyscript 0.28 wants Node 20)"
	case "wat2wasm":
		return "apt-get install wabt"
	case "make":
		return "apt-get install make"
	case "go":
		return "install Go 1.24 or newer"
	}
	return "install it"
}

func (p Project) compileC(ctx context.Context, tmp string) (string, error) {
	if _, err := exec.LookPath("clang"); err != nil {
		return "", &ToolError{Tool: "clang", Install: installHint("clang"), Err: err}
	}
	if _, err := os.Stat(wasiLibcHeader); err != nil {
		return "", &ToolError{Tool: "wasi-libc", Install: "apt-get install wasi-libc", Err: err}
	}
	// wasmcluster.h from this build of wasmcluster, after the project's
	// own directory: a copy next to the sources wins.
	inc := filepath.Join(tmp, "include")
	if err := writeLibrary("c/wasmcluster.h", filepath.Join(inc, "wasmcluster.h")); err != nil {
		return "", fmt.Errorf("build %s: %w", p.Dir, err)
	}
	srcs, _ := filepath.Glob(filepath.Join(p.Dir, "*.c"))
	out := filepath.Join(tmp, "plugin.wasm")
	args := append(append([]string{}, CFlags...), "-I", p.Dir, "-I", inc, "-o", out)
	for _, s := range srcs {
		args = append(args, filepath.Base(s))
	}
	return out, p.run(ctx, "clang "+strings.Join(args, " "), append([]string{"clang"}, args...), nil)
}

func (p Project) compileRust(ctx context.Context, tmp string) (string, error) {
	if err := requireRust(rustc); err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "plugin.wasm")
	args := append(append([]string{}, RustFlags...), "-o", out, p.RustSource)
	return out, p.run(ctx, rustc+" "+strings.Join(args, " "), append([]string{rustc}, args...), nil)
}

// compileCargo runs `cargo rustc` with Debian's rustc into a target
// directory in the cache (not target/ in the sources), offline: a plugin's
// crates come from the local registry cache or vendor/.
func (p Project) compileCargo(ctx context.Context, cache string) (string, error) {
	if err := requireRust(cargo); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(p.Dir))
	target := filepath.Join(cache, "cargo", hex.EncodeToString(sum[:8]))
	args := []string{"rustc", "--lib", "--release", "--offline", "--target", "wasm32-unknown-unknown", "--target-dir", target,
		"--", "-C", "strip=symbols", "-C", "link-arg=-zstack-size=65536"}
	err := p.run(ctx, "cargo "+strings.Join(args, " "), append([]string{cargo}, args...), []string{"RUSTC=" + rustc})
	if err != nil {
		return "", err
	}
	mods, _ := filepath.Glob(filepath.Join(target, "wasm32-unknown-unknown", "release", "*.wasm"))
	if len(mods) != 1 {
		return "", fmt.Errorf(`build %s (cargo): want one .wasm in %s, found %d; set [lib] crate-type = ["cdylib"] in Cargo.toml`, p.Dir, filepath.Dir(target), len(mods))
	}
	return mods[0], nil
}

// compileWAT assembles the one .wat file of p with wat2wasm.
func (p Project) compileWAT(ctx context.Context, tmp string) (string, error) {
	srcs, _ := filepath.Glob(filepath.Join(p.Dir, "*.wat"))
	if len(srcs) != 1 {
		return "", fmt.Errorf("build %s (wat): want one .wat file, found %d (or say how in %s)", p.Dir, len(srcs), ManifestFile)
	}
	out := filepath.Join(tmp, "plugin.wasm")
	args := []string{filepath.Base(srcs[0]), "-o", out}
	return out, p.run(ctx, "wat2wasm "+strings.Join(args, " "), append([]string{"wat2wasm"}, args...), nil)
}

// requireRust checks for one of Debian's Rust tools and the wasm32 core.
func requireRust(tool string) error {
	if _, err := os.Stat(tool); err != nil {
		return &ToolError{Tool: tool, Install: installHint(tool), Err: err}
	}
	if _, err := os.Stat(rustWasmLib); err != nil {
		return &ToolError{Tool: "rustc's wasm32 standard library", Install: "apt-get install libstd-rust-dev-wasm32", Err: err}
	}
	return nil
}

// compileAssemblyScript installs the project's node_modules when missing
// (npm ci with a package-lock.json, else npm install), then runs its build
// script.
func (p Project) compileAssemblyScript(ctx context.Context) (string, error) {
	env := []string{"npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false"}
	if _, err := os.Stat(filepath.Join(p.Dir, "node_modules")); err != nil {
		install := "install"
		if _, err := os.Stat(filepath.Join(p.Dir, "package-lock.json")); err == nil {
			install = "ci"
		}
		if err := p.run(ctx, "npm "+install, []string{"npm", install}, env); err != nil {
			return "", err
		}
	}
	return p.output(p.run(ctx, "npm run build ("+p.Command+")", []string{"npm", "run", "--silent", "build"}, env))
}

// writeLibrary writes the embedded guest library name (abi.GuestLibraries)
// to path.
func writeLibrary(name, path string) error {
	b, err := fs.ReadFile(abi.GuestLibraries, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
