package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
)

func newBuildCmd() *cobra.Command {
	var (
		out         string
		keepSymbols bool
	)
	cmd := &cobra.Command{
		Use:   "build PKG -o FILE",
		Short: "Build a Go package into a plugin (.wasm)",
		Long: `Build the Go package in directory PKG into a plugin, with the flags a plugin
needs every time:

  GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -buildmode=c-shared -trimpath -ldflags='-s -w'

The package is a main package that imports
github.com/wasmcluster/wasmcluster/abi/guest (or abi/guest/nethttp) and
registers its handler in init(). The module is also kept in the build cache,
named by its SHA-256. A compiler error is printed as the compiler wrote it; a
module that could not serve (no handle_request, or built as a command that
exits after start) is refused with how to fix it.`,
		Example: `  wasmcluster build ./examples/hello -o hello.wasm
  wasmcluster serve hello.wasm`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("build takes exactly one Go package directory, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if !gobuild.IsPackageDir(dir) {
				return usageError(fmt.Errorf("build %s: not a directory with Go files", dir))
			}
			if out == "" {
				abs, err := filepath.Abs(dir)
				if err != nil {
					return usageError(err)
				}
				out = filepath.Base(abs) + ".wasm"
			}
			res, err := gobuild.BuildFile(cmd.Context(), dir, out, gobuild.Options{KeepSymbols: keepSymbols})
			if err != nil {
				return runtimeError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes, sha256 %s)\n", out, res.Size, res.Hash)
			return runtimeErrorOrNil(err)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "module file to write (default: <package dir name>.wasm)")
	cmd.Flags().BoolVar(&keepSymbols, "keep-symbols", false, "keep the symbol table and DWARF (no -ldflags='-s -w')")
	return cmd
}

// pluginFile returns the module to serve for path: path itself, or, when
// path is a Go package directory, the module built from it into the build
// cache (so `wasmcluster serve ./myplugin` works). serve calls it first.
func pluginFile(ctx context.Context, path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return path, nil // let the reader report a missing file
	}
	if !gobuild.IsPackageDir(path) {
		return "", usageError(fmt.Errorf("%s is a directory without Go files; serve takes a .wasm file or a Go package directory", path))
	}
	res, err := gobuild.Build(ctx, path, gobuild.Options{})
	if err != nil {
		return "", runtimeError(err)
	}
	return res.Path, nil
}
