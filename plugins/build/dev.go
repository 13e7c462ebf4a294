package build

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DevOptions tune a Dev loop. Output is required.
type DevOptions struct {
	// Build tunes each build (the cache the modules land in).
	Build Options

	// Output is the stable module file the server serves and watches;
	// each successful build is renamed over it.
	Output string

	// Debounce is how long the sources must be quiet before a rebuild.
	// Defaults to 200ms: an editor's save (write, rename, chmod) or a
	// `git checkout` is one rebuild. Sources that never go quiet (a
	// generator rewriting a file in a loop) postpone a rebuild by at most
	// 10 x Debounce: the sources are then built as they are, and again
	// once the burst ends.
	Debounce time.Duration

	// Logger gets one line per build. Defaults to slog.Default().
	Logger *slog.Logger
}

// DevStatus is the outcome of a Dev loop's builds, for status.
type DevStatus struct {
	Dir       string
	Kind      Kind
	Builds    uint64    // builds run
	Failures  uint64    // builds that failed
	At        time.Time // end of the last build
	Version   string    // SHA-256 of the last module built
	LastError string    // why the last build failed; "" when it succeeded
}

// Dev is the dev loop of one project: Rebuild builds it into Output; Run
// watches its sources and rebuilds on change.
type Dev struct {
	dir string
	o   DevOptions
	log *slog.Logger

	buildMu sync.Mutex // one build at a time
	mu      sync.Mutex
	st      DevStatus
}

// NewDev returns the dev loop of the project in dir; it builds nothing yet.
func NewDev(dir string, o DevOptions) (*Dev, error) {
	p, err := Detect(dir)
	if err != nil {
		return nil, err
	}
	if o.Output == "" {
		return nil, fmt.Errorf("build %s: dev loop needs an output file", dir)
	}
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Dev{dir: p.Dir, o: o, log: o.Logger, st: DevStatus{Dir: p.Dir, Kind: p.Kind}}, nil
}

// Dir is the project's absolute directory.
func (d *Dev) Dir() string { return d.dir }

// Status returns the outcome of the builds so far.
func (d *Dev) Status() DevStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

// Rebuild builds the project (detected again: a manifest may have
// appeared) and, when it succeeds, renames the module over Output. A
// failure leaves Output alone and is kept for Status.
func (d *Dev) Rebuild(ctx context.Context) (Result, error) {
	d.buildMu.Lock()
	defer d.buildMu.Unlock()
	start := time.Now()
	p, err := Detect(d.dir)
	var res Result
	if err == nil {
		res, err = p.Build(ctx, d.o.Build)
	}
	if err == nil {
		err = d.install(res)
	}
	d.mu.Lock()
	d.st.Builds++
	d.st.At = time.Now()
	if err == nil {
		if prev := d.st.Version; prev != "" && prev != res.Hash {
			// Output holds it no more and the server snapshotted it: a
			// day of saves should not leave a day of modules behind.
			os.Remove(filepath.Join(filepath.Dir(res.Path), prev+".wasm"))
		}
		d.st.Kind, d.st.Version, d.st.LastError = p.Kind, res.Hash, ""
	} else {
		d.st.Failures++
		d.st.LastError = err.Error()
	}
	d.mu.Unlock()
	if err != nil {
		return res, err
	}
	d.log.Info("plugin built", "dir", d.dir, "kind", p.Kind, "sha256", res.Hash, "size", res.Size,
		"took", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// install puts the module res at Output unless Output already holds it:
// an unchanged build writes nothing, so the watcher sees nothing.
func (d *Dev) install(res Result) error {
	if cur, err := os.ReadFile(d.o.Output); err == nil {
		if nb, err := os.ReadFile(res.Path); err == nil && string(cur) == string(nb) {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(d.o.Output), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", d.dir, err)
	}
	if err := copyAtomic(res.Path, d.o.Output); err != nil {
		return fmt.Errorf("build %s: install %s: %w", d.dir, d.o.Output, err)
	}
	return nil
}

// ignoredDirs are never watched: build outputs, dependencies, VCS data.
var ignoredDirs = map[string]bool{".git": true, "node_modules": true, "target": true, "build": true, "zig-out": true}

// sourceExts and sourceNames are the files whose change rebuilds a
// project that has no manifest (any other file does with one): sources,
// headers and the toolchains' project files, not an editor's swap files.
var (
	sourceExts  = map[string]bool{".go": true, ".rs": true, ".ts": true, ".c": true, ".h": true, ".mk": true, ".json": true, ".toml": true, ".wat": true}
	sourceNames = map[string]bool{"go.mod": true, "go.sum": true, "Makefile": true, "makefile": true, "Cargo.lock": true}
)

// isSource reports whether a change of path (inside the project) should
// rebuild it.
func (d *Dev) isSource(path string, manifest bool) bool {
	rel, err := filepath.Rel(d.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false
	}
	for _, part := range strings.Split(filepath.Dir(rel), string(filepath.Separator)) {
		if ignoredDirs[part] {
			return false
		}
	}
	base := filepath.Base(rel)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".wasm") {
		return false
	}
	if manifest {
		return true
	}
	return sourceNames[base] || sourceExts[filepath.Ext(base)]
}

// Output is the stable module file the dev loop writes.
func (d *Dev) Output() string { return d.o.Output }
