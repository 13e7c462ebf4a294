package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
)

// Options tune Build. The zero value is valid.
type Options struct {
	// CacheDir receives built modules as <sha256>.wasm (and Cargo's target
	// directories). Defaults to gobuild.DefaultCacheDir().
	CacheDir string
}

func (o Options) cacheDir() string {
	if o.CacheDir == "" {
		return gobuild.DefaultCacheDir()
	}
	return o.CacheDir
}

// Result describes a built plugin: the module in the cache.
type Result = gobuild.Result

// BuildError is a failed build: the command and what it printed.
type BuildError struct {
	Dir     string
	Kind    Kind
	Command string
	Output  string
	Err     error
}

func (e *BuildError) Error() string {
	msg := fmt.Sprintf("build %s (%s): %s: %v", e.Dir, e.Kind, e.Command, e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += "\n" + out
	}
	if h := e.Hint(); h != "" {
		msg += "\nhint: " + h
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// Hint suggests a fix for setup mistakes the compiler does not explain.
func (e *BuildError) Hint() string {
	switch {
	case strings.Contains(e.Output, "can't find crate for `core`"), strings.Contains(e.Output, "can't find crate for `std`"):
		return "the wasm32 standard library is missing: apt-get install libstd-rust-dev-wasm32 (and call /usr/bin/rustc, not rustup's)"
	case strings.Contains(e.Output, "asc: not found"), strings.Contains(e.Output, "Cannot find module 'assemblyscript"):
		return "npm install --save-dev assemblyscript in " + e.Dir
	case strings.Contains(e.Output, "wasmcluster.h' file not found"), strings.Contains(e.Output, "wasmcluster.h: No such file"):
		return "copy wasmcluster.h (abi/c in the wasmcluster repository) next to your sources"
	}
	return ""
}

// ToolError is a toolchain that is not installed.
type ToolError struct {
	Tool    string // what was looked for
	Install string // how to install it
	Err     error
}

func (e *ToolError) Error() string {
	return fmt.Sprintf("%s not found (%s): %v", e.Tool, e.Install, e.Err)
}

func (e *ToolError) Unwrap() error { return e.Err }

// Build builds the project in dir into the cache.
func Build(ctx context.Context, dir string, opts Options) (Result, error) {
	p, err := Detect(dir)
	if err != nil {
		return Result{}, err
	}
	return p.Build(ctx, opts)
}

// Build builds p into the cache.
func (p Project) Build(ctx context.Context, opts Options) (Result, error) {
	cache := opts.cacheDir()
	if p.Kind == KindGo {
		return gobuild.Build(ctx, p.Dir, gobuild.Options{CacheDir: cache})
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, fmt.Errorf("build %s: create cache dir: %w", p.Dir, err)
	}
	tmp, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", p.Dir, err)
	}
	defer os.RemoveAll(tmp)
	out, err := p.compile(ctx, cache, tmp)
	if err != nil {
		return Result{}, err
	}
	return store(p.Dir, cache, out)
}

// compile runs the toolchain of p and returns the module file it wrote.
// tmp is a fresh directory inside the cache, removed afterwards.
func (p Project) compile(ctx context.Context, cache, tmp string) (string, error) {
	switch p.Kind {
	case KindC:
		return p.compileC(ctx, tmp)
	case KindRust:
		return p.compileRust(ctx, tmp)
	case KindCargo:
		return p.compileCargo(ctx, cache)
	case KindAssemblyScript:
		return p.compileAssemblyScript(ctx)
	case KindWAT:
		return p.compileWAT(ctx, tmp)
	case KindMake:
		return p.output(p.run(ctx, "make", []string{"make"}, nil))
	case KindManifest:
		return p.output(p.run(ctx, p.Command, []string{"sh", "-c", p.Command}, nil))
	}
	return "", fmt.Errorf("build %s: unknown project kind %q", p.Dir, p.Kind)
}

// output is p.Output's absolute path once the command that writes it
// succeeded.
func (p Project) output(err error) (string, error) {
	if err != nil {
		return "", err
	}
	out := filepath.Join(p.Dir, p.Output)
	if _, err := os.Stat(out); err != nil {
		return "", fmt.Errorf("build %s (%s): the build succeeded but wrote no %s; write the module there (or name it as output in %s)", p.Dir, p.Kind, p.Output, ManifestFile)
	}
	return out, nil
}

// run runs argv in p.Dir with env added, as the build command named
// display; a failure is a *BuildError with the output.
func (p Project) run(ctx context.Context, display string, argv, env []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), env...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return &ToolError{Tool: argv[0], Install: installHint(argv[0]), Err: err}
		}
		return &BuildError{Dir: p.Dir, Kind: p.Kind, Command: display, Output: output.String(), Err: err}
	}
	return nil
}

// store checks the module at out and renames (or copies) it into the cache
// under its SHA-256.
func store(dir, cache, out string) (Result, error) {
	wasm, err := os.ReadFile(out)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: read output: %w", dir, err)
	}
	if err := gobuild.CheckModule(wasm); err != nil {
		return Result{}, fmt.Errorf("build %s: %s: %w", dir, out, err)
	}
	sum := sha256.Sum256(wasm)
	res := Result{Hash: hex.EncodeToString(sum[:]), Size: int64(len(wasm))}
	res.Path = filepath.Join(cache, res.Hash+".wasm")
	tmp, err := os.CreateTemp(cache, ".store-*.wasm")
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	_, err = tmp.Write(wasm)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		// Rename is atomic: readers of the cache see a whole module or none.
		err = os.Rename(tmp.Name(), res.Path)
	}
	if err != nil {
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
	if err := copyAtomic(res.Path, out); err != nil {
		return res, fmt.Errorf("build %s: write %s: %w", dir, out, err)
	}
	return res, nil
}

// copyAtomic copies src to dst through a temporary file beside dst and a
// rename, so a watcher of dst sees the whole new module in one event.
func copyAtomic(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".wasmcluster-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
