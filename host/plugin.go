package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/internal/fsfail"
)

// Plugin is a compiled, validated plugin with a pool of ready instances. It
// is an http.Handler and safe for concurrent use.
type Plugin struct {
	cfg      Config
	hash     string
	log      *slog.Logger
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
	pool     *pool
	next     http.Handler
	hasResp  bool      // guest exports handle_response
	first    *instance // instantiated by load; handed to the pool
	mem      *memAllocator
	mounts   *mounts // the grants every instance gets; see grants in instance.go

	stopPrewarm context.CancelFunc
	prewarmed   chan struct{} // closed when the background prewarm ended
	prewarmErr  error         // why it stopped early; read after prewarmed

	stopWatchdog chan struct{}
	closeOnce    sync.Once

	stats counters
}

type counters struct {
	requests, traps, timeouts, tooLarge, instantiations, waits atomic.Uint64
	upstream                                                   [numCauses]atomic.Uint64
	outbound                                                   outboundStats
	kv                                                         kvCounters
}

// Stats is a snapshot of a plugin's counters.
type Stats struct {
	Requests       uint64        // requests served (any outcome)
	Traps          uint64        // requests answered 500 because the guest failed
	Timeouts       uint64        // requests answered 504
	TooLarge       uint64        // requests answered 413
	Instantiations uint64        // instances created, prewarm included
	Waits          uint64        // requests that found every instance busy at the bound and waited for one
	Rejected       uint64        // of those, requests answered 503 because none freed up within PoolWait
	PoolSize       int           // instances prewarmed and kept idle
	PoolMax        int           // instances alive at most (from MemoryBudget)
	Live           int           // instances alive (idle + in use)
	Idle           int           // instances waiting in the pool
	Upstream       UpstreamStats // requests the upstream proxy could not complete, by cause
	// Outbound counts outbound HTTP calls, keyed "host result" (result an
	// abi.Status name); nil when none were made.
	Outbound map[string]uint64
	// KV counts the calls kv_* functions made to Config.KV, by op name
	// ("get", "set", "delete", "incr", "cas", "keys"); ops never called are
	// absent.
	KV map[string]KVOpStats
}

// New compiles wasm, checks that it is an http-wasm handler, and prewarms
// the instance pool. The error says what is wrong with the module; a module
// that exits at the end of _start wraps ErrExitsAfterStart.
func New(ctx context.Context, wasm []byte, cfg Config) (*Plugin, error) {
	p, err := Load(ctx, wasm, cfg)
	if err != nil {
		return nil, err
	}
	if err := p.WaitPrewarmed(ctx); err != nil {
		p.Close(context.Background())
		return nil, err
	}
	return p, nil
}

// Load is New without waiting for the whole pool: it returns once the
// module is compiled, checked and its first instance initialized, so the
// plugin can serve; the other instances of the pool are created in the
// background (WaitPrewarmed waits for them). A request arriving meanwhile
// takes an idle instance or creates one, within the pool's bound. Any
// problem with the module itself shows in the first instance, so Load's
// error is New's.
func Load(ctx context.Context, wasm []byte, cfg Config) (*Plugin, error) {
	cfg = cfg.withDefaults()
	if err := cfg.checkUpstreamCA(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	p := &Plugin{cfg: cfg, hash: hex.EncodeToString(sum[:]), mem: newMemAllocator()}
	p.log = cfg.Logger.With(slog.String("plugin", cfg.Name), slog.String("version", digest.Short(p.hash)))
	p.next = nextHandler(cfg, p.log)
	m, err := openMounts(cfg.Mounts)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", cfg.Name, err)
	}
	p.mounts = m
	if err := p.load(ctx, wasm); err != nil {
		m.close()
		return nil, err
	}
	p.pool = newPool(cfg.PoolSize, p.maxInstances(), cfg.PoolWait, cfg.PoolKeep, func(ctx context.Context) (*instance, error) {
		return p.newInstance(p.mem.context(ctx))
	})
	p.pool.add(p.first)
	p.first = nil
	p.stopWatchdog = make(chan struct{})
	go p.watchdog()
	// The prewarm outlives ctx (a load's deadline) but not the plugin.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.stopPrewarm, p.prewarmed = cancel, make(chan struct{})
	go func() {
		defer close(p.prewarmed)
		defer cancel()
		if err := p.pool.prewarm(pctx); err != nil && pctx.Err() == nil {
			p.prewarmErr = fmt.Errorf("plugin %s: %w", cfg.Name, err)
			p.log.Warn("prewarming the instance pool stopped; requests create instances on demand", slog.Any("err", err))
		}
	}()
	return p, nil
}

// WaitPrewarmed waits until the background prewarm started by Load has
// filled the pool (or stopped: requests took the remaining slots, or the
// plugin was closed). It returns the error that stopped it, if any.
func (p *Plugin) WaitPrewarmed(ctx context.Context) error {
	select {
	case <-p.prewarmed:
		return p.prewarmErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxInstances is how many instances MemoryBudget allows, each counted at
// the most linear memory it can grow to.
func (p *Plugin) maxInstances() int {
	pages := p.cfg.MemoryLimitPages
	for _, m := range p.compiled.ExportedMemories() {
		if declared, ok := m.Max(); ok && declared < pages {
			pages = declared
		}
	}
	perInstance := max(int64(pages), 1) * 65536
	return int(min(p.cfg.MemoryBudget/perInstance, MaxPoolInstances))
}

// Validate compiles, checks and initializes wasm once, keeping nothing. It is
// the preflight check run before a plugin version may take traffic.
func Validate(ctx context.Context, wasm []byte, cfg Config) error {
	cfg.PoolSize = 1
	p, err := New(ctx, wasm, cfg)
	if err != nil {
		return err
	}
	return p.Close(ctx)
}

// Hash is the hex SHA-256 of the plugin's bytes: its version.
func (p *Plugin) Hash() string { return p.hash }

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	live, idle := p.pool.counts()
	return Stats{
		Requests:       p.stats.requests.Load(),
		Traps:          p.stats.traps.Load(),
		Timeouts:       p.stats.timeouts.Load(),
		TooLarge:       p.stats.tooLarge.Load(),
		Instantiations: p.stats.instantiations.Load(),
		Waits:          p.pool.waits.Load(),
		Rejected:       p.pool.rejected.Load(),
		PoolSize:       p.cfg.PoolSize,
		PoolMax:        p.pool.max,
		Live:           live,
		Idle:           idle,
		Upstream:       upstreamStats(&p.stats.upstream),
		Outbound:       p.stats.outbound.snapshot(),
		KV:             p.stats.kv.snapshot(),
	}
}

// Close releases every instance and the runtime. Requests still running
// fail; callers drain first.
func (p *Plugin) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { close(p.stopWatchdog) })
	p.stopPrewarm()
	select {
	case <-p.prewarmed: // an instance being created joins the pool; close discards it
	case <-ctx.Done():
	}
	p.pool.close()
	p.mem.closeBegins() // instances still busy are freed below, maybe mid-call
	defer p.mounts.close()
	if err := p.runtime.Close(ctx); err != nil {
		return fmt.Errorf("close plugin %s: %w", p.cfg.Name, err)
	}
	return nil
}

// load compiles wasm and checks it, through the on-disk cache when one is
// configured and usable. The cache never decides whether a load succeeds
// unless it is unsafe (ErrUnsafeCache): when it cannot be written, the
// module is compiled in memory; when wazero fails with a verified entry (a
// corrupt entry can make it fail or panic), the version's entries are
// removed and it is compiled again.
func (p *Plugin) load(ctx context.Context, wasm []byte) error {
	verified, err := p.openCache()
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}
	err = p.compileCached(ctx, wasm, verified)
	var le *LoadError
	if err == nil || verified == nil || ctx.Err() != nil || errors.As(err, &le) || fsfail.Write(err) {
		return err // a LoadError: the module itself is wrong; the cache is not involved
	}
	dir := p.cacheDir()
	p.log.Warn("compilation failed with the on-disk cache; removing the entry and recompiling",
		slog.String("cache_dir", dir), slog.Any("err", err))
	if rmErr := os.RemoveAll(dir); rmErr != nil {
		p.log.Warn("cannot remove the compilation cache entry; compiling in memory",
			slog.String("cache_dir", dir), slog.Any("err", rmErr))
		return p.compile(ctx, wasm, nil)
	}
	if verified, err = p.openCache(); err != nil {
		return fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}
	return p.compileCached(ctx, wasm, verified)
}

// compileCached is compile, again in memory when wazero failed to write
// the compiled code to the cache.
func (p *Plugin) compileCached(ctx context.Context, wasm []byte, verified map[string]bool) error {
	err := p.compile(ctx, wasm, verified)
	var le *LoadError
	if err == nil || verified == nil || ctx.Err() != nil || errors.As(err, &le) || !fsfail.Write(err) {
		return err
	}
	p.cacheUnwritable(err)
	return p.compile(ctx, wasm, nil)
}

func (p *Plugin) cacheDir() string {
	return filepath.Join(p.cfg.CacheDir, p.hash)
}

// compile builds the runtime and compiled module, converting a panic inside
// wazero (a corrupt cache entry can cause one) into an error. It uses the
// on-disk cache when verified (openCache's result) is not nil.
func (p *Plugin) compile(ctx context.Context, wasm []byte, verified map[string]bool) (err error) {
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(!p.cfg.Uninterruptible).
		WithMemoryLimitPages(p.cfg.MemoryLimitPages)
	if verified != nil {
		cache, cerr := wazero.NewCompilationCacheWithDir(p.cacheDir())
		if cerr != nil {
			return fmt.Errorf("open compilation cache %s: %w", p.cacheDir(), cerr)
		}
		rc = rc.WithCompilationCache(cache)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("compile plugin %s: wazero panicked: %v", p.cfg.Name, rec)
		}
		if err != nil {
			r.Close(context.Background())
		}
	}()
	if _, err = wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return fmt.Errorf("instantiate WASI: %w", err)
	}
	if err = p.instantiateHostModule(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", abi.HostModule, err)
	}
	if err = p.instantiateEnvModule(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", abi.EnvModule, err)
	}
	if err = p.instantiateExtModule(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", abi.ExtModule, err)
	}
	// A cache miss compiles functions on every CPU (a new version's
	// compile is most of a deploy's wait); a hit does not compile.
	compiled, err := r.CompileModule(experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0)), wasm)
	if err != nil {
		if !looksLikeWasm(wasm) {
			return &LoadError{Plugin: p.cfg.Name, Reason: "not a WebAssembly module (bad magic header or too short)"}
		}
		return fmt.Errorf("compile plugin %s: %w", p.cfg.Name, err)
	}
	if verified != nil {
		p.recordEntries(verified)
	}
	if err = p.checkModule(r, compiled); err != nil {
		return err
	}
	p.runtime, p.compiled = r, compiled
	// Instantiate one instance now, so an initialization failure (a trap in
	// _initialize, an exit after _start, a missing import) is a load error.
	// It becomes the pool's first instance.
	inst, err := p.newInstance(p.mem.context(ctx))
	if err != nil {
		p.runtime, p.compiled = nil, nil
		return err
	}
	p.first = inst
	return nil
}

func looksLikeWasm(b []byte) bool {
	return len(b) >= 8 && string(b[:4]) == "\x00asm"
}
