package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/plugins/build"
	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

func newBuildCmd() *cobra.Command {
	var (
		out, cacheDir string
		keepSymbols   bool
	)
	cmd := &cobra.Command{
		Use:   "build DIR [-o FILE]",
		Short: "Build a plugin's source directory (Go, Rust, C, AssemblyScript, …) into a .wasm",
		Long: `Build the plugin whose sources are in DIR. How is decided from what DIR holds:

  wasmcluster.toml   build = "command", output = "file.wasm" (wins over the rest)
  *.go               GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w'
  Cargo.toml         /usr/bin/cargo rustc --lib --release --target wasm32-unknown-unknown
  lib.rs             /usr/bin/rustc --target wasm32-unknown-unknown --crate-type cdylib (no_std)
  package.json       npm ci (when node_modules is missing), npm run build (asc … --outFile F)
  Makefile           make, which writes plugin.wasm
  *.c                clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2

The module is also kept in the build cache, named by its SHA-256. A compiler
error is printed as the compiler wrote it; a missing toolchain names the
package to install; a module that could not serve (no handle_request, or a
Go command that exits after start) is refused with how to fix it.`,
		Example: `  wasmcluster build ./examples/hello -o hello.wasm
  wasmcluster build ./examples/hello-rust -o hello.wasm
  wasmcluster serve hello.wasm`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("build takes exactly one plugin source directory, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), cmd.OutOrStdout(), args[0], out, cacheDir, keepSymbols)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "module file to write (default: <dir name>.wasm)")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "cache directory; modules go to its build/ (default: <user cache dir>/wasmcluster)")
	cmd.Flags().BoolVar(&keepSymbols, "keep-symbols", false, "Go only: keep the symbol table and DWARF (no -ldflags='-s -w')")
	return cmd
}

func runBuild(ctx context.Context, stdout io.Writer, dir, out, cacheDir string, keepSymbols bool) error {
	p, err := build.Detect(dir)
	if err != nil {
		return usageError(err)
	}
	if out == "" {
		out = filepath.Base(p.Dir) + ".wasm"
	}
	opts := build.Options{CacheDir: buildCacheDir(cacheDir)}
	var res build.Result
	if p.Kind == build.KindGo {
		res, err = gobuild.BuildFile(ctx, dir, out, gobuild.Options{KeepSymbols: keepSymbols, CacheDir: opts.CacheDir})
	} else {
		res, err = build.BuildFile(ctx, dir, out, opts)
	}
	if err != nil {
		return runtimeError(err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%s, %d bytes, sha256 %s)\n", out, p.Kind, res.Size, res.Hash)
	return runtimeErrorOrNil(err)
}

// buildCacheDir is where built modules go: build/ in the cache directory
// (cache_dir, --cache-dir), or the user's when it is off or unset.
func buildCacheDir(cacheDir string) string {
	if cacheDir == "" || cacheDir == config.CacheDirOff {
		return gobuild.DefaultCacheDir()
	}
	return filepath.Join(cacheDir, "build")
}

// pluginSource is what serve serves: a .wasm file as is, or, for a source
// directory, the module built from it into a stable file in the cache,
// rebuilt by its dev loop (nil for a file).
type pluginSource struct {
	file string
	dev  *build.Dev
}

// pluginFile returns the module to serve for path: path itself, or, when
// path is a source directory, the module built from it (so `wasmcluster
// serve ./myplugin` works) with the dev loop that rebuilds it.
func pluginFile(ctx context.Context, path string, cfg config.Config, log *slog.Logger) (pluginSource, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return pluginSource{file: path}, nil // let the reader report a missing file
	}
	cache, err := cfg.ResolveCacheDir()
	if err != nil {
		return pluginSource{}, usageError(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return pluginSource{}, usageError(err)
	}
	sum := sha256.Sum256([]byte(abs))
	dev, err := build.NewDev(path, build.DevOptions{
		Build:  build.Options{CacheDir: buildCacheDir(cache)},
		Output: filepath.Join(buildCacheDir(cache), "dev", hex.EncodeToString(sum[:8]), filepath.Base(abs)+".wasm"),
		Logger: log,
	})
	if errors.Is(err, build.ErrNoProject) {
		return pluginSource{}, usageError(fmt.Errorf("serve takes a .wasm file or a plugin source directory: %w", err))
	}
	if err != nil {
		return pluginSource{}, usageError(err)
	}
	if _, err := dev.Rebuild(ctx); err != nil {
		return pluginSource{}, runtimeError(err)
	}
	return pluginSource{file: dev.Output(), dev: dev}, nil
}

// devStatus is serve.Options.Build for a dev loop.
func devStatus(dev *build.Dev) func() *control.BuildStatus {
	return func() *control.BuildStatus {
		s := dev.Status()
		return &control.BuildStatus{Dir: s.Dir, Kind: string(s.Kind), Builds: s.Builds, Failures: s.Failures,
			At: s.At, Version: s.Version, LastError: s.LastError}
	}
}

// printBuild is the dev loop's part of `wasmcluster status`.
func printBuild(w io.Writer, b *control.BuildStatus) {
	if b == nil {
		return
	}
	fmt.Fprintf(w, "built from %s (%s): %d builds, %d failed", b.Dir, b.Kind, b.Builds, b.Failures)
	if b.LastError == "" {
		fmt.Fprintf(w, ", last %s ago\n", fmtSeconds(time.Since(b.At).Seconds()))
		return
	}
	fmt.Fprintf(w, "\nlast build failed (%s ago), still serving the version before it:\n  %s\n",
		fmtSeconds(time.Since(b.At).Seconds()), strings.ReplaceAll(b.LastError, "\n", "\n  "))
}
