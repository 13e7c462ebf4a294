// Package build turns a plugin's source directory, in any language the
// README supports, into a module in the content-addressed build cache, and
// runs the dev loop that rebuilds it on every save.
//
// Detect decides how a directory builds, in this order: a wasmcluster.toml
// manifest (`build = "…"`, `output = "…"`) wins; otherwise Go files (built
// by plugins/gobuild), a Cargo.toml (Debian's cargo), a lib.rs or src/lib.rs
// alone (Debian's rustc, no_std cdylib for wasm32-unknown-unknown), a
// package.json whose build script runs asc (npm), a Makefile (make, which
// writes plugin.wasm), .c files (clang with wasi-libc, as a reactor), or
// one .wat file (wat2wasm).
//
// Build runs the project's toolchain into a temporary file, checks the
// module (it must export memory and handle_request), and renames it into
// the cache as <sha256>.wasm: two versions never share a path and a reader
// never sees half a module. A failed build is a *BuildError carrying the
// compiler's output and, for the common setup mistakes, a hint; a missing
// toolchain is a *ToolError naming the Debian or npm package to install.
// Toolchains with a rustup twin are called by their Debian path: a rustup
// rustc earlier on PATH has no wasm target here.
//
// Dev is the dev loop: it builds a project into one stable file that the
// plugin watcher of `serve` watches, and rebuilds (debounced) when the
// project's sources change. A new module is renamed over that file, so a
// rebuild swaps exactly like any other write of a plugin file; a failed one
// leaves the file, and the version serving, alone, and is kept for status.
package build
