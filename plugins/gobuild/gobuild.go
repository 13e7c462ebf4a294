package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Options tune Build. The zero value is valid.
type Options struct {
	// CacheDir receives built modules as <sha256>.wasm. Defaults to
	// DefaultCacheDir().
	CacheDir string

	// KeepSymbols keeps the symbol table and DWARF (no -ldflags='-s -w').
	// Defaults to false: stripped modules are ~25% smaller and compile faster.
	KeepSymbols bool

	// GoCmd is the go command to run. Defaults to "go" from PATH.
	GoCmd string

	// Env is added to the build's environment (after GOOS/GOARCH, which
	// cannot be overridden). Defaults to none.
	Env []string
}

// Result describes a built plugin.
type Result struct {
	Path string // the module in the cache: CacheDir/<Hash>.wasm
	Hash string // hex SHA-256 of the module bytes
	Size int64  // bytes
}

// BuildError is a failed `go build`; Output is what the compiler printed.
type BuildError struct {
	Dir    string
	Output string
	Err    error
}

func (e *BuildError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("build %s: %v", e.Dir, e.Err)
	}
	msg := fmt.Sprintf("build %s: go build failed:\n%s", e.Dir, out)
	if hint := e.Hint(); hint != "" {
		msg += "\nhint: " + hint
	}
	return msg
}

// Hint suggests a fix for the common setup mistakes the compiler's message
// does not explain, or returns "".
func (e *BuildError) Hint() string {
	switch {
	case strings.Contains(e.Output, "go.mod file not found"), strings.Contains(e.Output, "cannot find main module"):
		return "a plugin needs a Go module: run `go mod init example.com/myplugin && go get github.com/wasmcluster/wasmcluster/abi/guest` in " + e.Dir
	case strings.Contains(e.Output, "no required module provides package github.com/wasmcluster/wasmcluster"):
		return "run `go get github.com/wasmcluster/wasmcluster/abi/guest` in " + e.Dir
	case strings.Contains(e.Output, "go:wasmexport"), strings.Contains(e.Output, "go:wasmimport"):
		return "plugins need Go 1.24 or newer (go:wasmexport)"
	}
	return ""
}

func (e *BuildError) Unwrap() error { return e.Err }

// ErrNotMain is returned for a directory whose package is not main.
var ErrNotMain = errors.New("not a main package")

// DefaultCacheDir is $XDG_CACHE_HOME/wasmcluster/build (or the platform's
// user cache directory), falling back to the temp directory.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "wasmcluster", "build")
}

// IsPackageDir reports whether path is a directory holding Go source files,
// which serve and build treat as a package to compile rather than a module.
func IsPackageDir(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return false
	}
	m, _ := filepath.Glob(filepath.Join(path, "*.go"))
	return len(m) > 0
}

// Build compiles the Go package in dir into a plugin and stores it in the
// cache. The build runs inside dir, so dir's own go.mod (if any) applies.
func Build(ctx context.Context, dir string, opts Options) (Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	if err := checkMainPackage(abs); err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	cache := opts.CacheDir
	if cache == "" {
		cache = DefaultCacheDir()
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, fmt.Errorf("build %s: create cache dir: %w", dir, err)
	}
	tmp, err := os.CreateTemp(cache, ".build-*.wasm")
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // no-op once renamed

	if err := goBuild(ctx, abs, tmpName, opts); err != nil {
		return Result{}, err
	}
	wasm, err := os.ReadFile(tmpName)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: read output: %w", dir, err)
	}
	if err := CheckModule(wasm); err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	sum := sha256.Sum256(wasm)
	res := Result{Hash: hex.EncodeToString(sum[:]), Size: int64(len(wasm))}
	res.Path = filepath.Join(cache, res.Hash+".wasm")
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	// Rename is atomic: readers of the cache see a whole module or none.
	if err := os.Rename(tmpName, res.Path); err != nil {
		return Result{}, fmt.Errorf("build %s: store in cache: %w", dir, err)
	}
	return res, nil
}

// BuildFile builds dir and copies the module to out (written atomically).
func BuildFile(ctx context.Context, dir, out string, opts Options) (Result, error) {
	res, err := Build(ctx, dir, opts)
	if err != nil {
		return res, err
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", dir, err)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		return res, fmt.Errorf("build %s: write %s: %w", dir, out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("build %s: write %s: %w", dir, out, err)
	}
	return res, nil
}

func goBuild(ctx context.Context, dir, out string, opts Options) error {
	goCmd := opts.GoCmd
	if goCmd == "" {
		goCmd = "go"
	}
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-o", out}
	if !opts.KeepSymbols {
		args = append(args, "-ldflags=-s -w")
	}
	args = append(args, ".")
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("build %s: the Go toolchain (go >= 1.24) is needed to build a Go plugin: %w", dir, err)
		}
		return &BuildError{Dir: dir, Output: output.String(), Err: err}
	}
	return nil
}

// checkMainPackage reads the package clauses of dir's non-test files: a
// plugin must be package main (c-shared needs one), and saying so beats the
// linker's "-buildmode=c-shared requires exactly one main package".
func checkMainPackage(dir string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	var name string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly)
		if err != nil {
			continue // the compiler reports syntax errors better
		}
		if af.Name.Name == "main" {
			return nil
		}
		name = af.Name.Name
	}
	if name == "" {
		return fmt.Errorf("no Go files in %s", dir)
	}
	return fmt.Errorf("%w: package %s; a plugin is package main with an empty func main(), registering its handler in init()", ErrNotMain, name)
}
