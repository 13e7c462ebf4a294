package main

// The process layer of serve (workers/): a primary that preflights and
// snapshots the plugin (plugins/), then runs one worker process per usable
// CPU, each loading the snapshot with the same host configuration.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// processOptions are serve's process-layer flags.
type processOptions struct {
	Workers int    // 0 serves in the primary's process
	Control string // control socket path; "" = default, "-" = none
}

// processOptionsFrom resolves the process layer's settings: workers -1
// means one per usable CPU.
func processOptionsFrom(cfg config.Config) processOptions {
	n := cfg.Workers
	if n < 0 {
		n = workers.UsableCPUs()
	}
	return processOptions{Workers: n, Control: cfg.Control}
}

// exitStuckGuest is a worker's exit code when an uninterruptible guest
// overran its deadline (EX_SOFTWARE).
const exitStuckGuest = 70

// workerConfig is host.Config as it travels to a worker (in workers.Spec.
// Config): everything but the logger and the next handler.
type workerConfig struct {
	Name             string        `json:"name"`
	CacheDir         string        `json:"cache_dir,omitempty"`
	GuestConfig      []byte        `json:"guest_config,omitempty"`
	Upstream         string        `json:"upstream,omitempty"`
	PoolSize         int           `json:"pool_size,omitempty"`
	RequestTimeout   time.Duration `json:"request_timeout,omitempty"`
	MaxRequestBody   int64         `json:"max_request_body,omitempty"`
	MemoryLimitPages uint32        `json:"memory_limit_pages,omitempty"`
	Uninterruptible  bool          `json:"uninterruptible,omitempty"`
	InitTimeout      time.Duration `json:"init_timeout,omitempty"`
}

func newWorkerConfig(h host.Config) workerConfig {
	wc := workerConfig{
		Name: h.Name, CacheDir: h.CacheDir, GuestConfig: h.GuestConfig, PoolSize: h.PoolSize,
		RequestTimeout: h.RequestTimeout, MaxRequestBody: h.MaxRequestBody, MemoryLimitPages: h.MemoryLimitPages,
		Uninterruptible: h.Uninterruptible, InitTimeout: h.InitTimeout,
	}
	if h.Upstream != nil {
		wc.Upstream = h.Upstream.String()
	}
	return wc
}

func (wc workerConfig) host(log *slog.Logger) (host.Config, error) {
	h := host.Config{
		Name: wc.Name, CacheDir: wc.CacheDir, GuestConfig: wc.GuestConfig, PoolSize: wc.PoolSize,
		RequestTimeout: wc.RequestTimeout, MaxRequestBody: wc.MaxRequestBody, MemoryLimitPages: wc.MemoryLimitPages,
		InitTimeout: wc.InitTimeout, Logger: log,
	}
	if wc.Uninterruptible {
		// plugin.interrupt = false: a guest past its deadline cannot be
		// stopped in this process, so the worker ends itself and the primary
		// replaces it (a GC-frozen worker is caught by the heartbeat instead).
		h.Uninterruptible = true
		h.OnStuck = func(age time.Duration) {
			log.Error("exiting: a guest overran its deadline and cannot be interrupted", "age", age)
			os.Exit(exitStuckGuest)
		}
	}
	if wc.Upstream != "" {
		u, err := url.Parse(wc.Upstream)
		if err != nil {
			return host.Config{}, fmt.Errorf("upstream %q: %w", wc.Upstream, err)
		}
		h.Upstream = u
	}
	h.Next = selfTestGuard(host.NextHandler(h))
	return h, nil
}

// selfTestGuard answers a worker's self-test request with 204 instead of
// passing it to next (the upstream): readiness is about the plugin, and a
// slow or down upstream must not keep workers from starting.
func selfTestGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpserve.IsSelfTest(r.Context()) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loadSnapshot is the LoadFunc of workers (and of --workers 0): the host
// over the snapshot named by spec, checked against its hash.
func loadSnapshot(log *slog.Logger) workers.LoadFunc {
	return func(ctx context.Context, spec workers.Spec) (httpserve.Plugin, error) {
		var wc workerConfig
		if err := json.Unmarshal(spec.Config, &wc); err != nil {
			return nil, fmt.Errorf("worker config: %w", err)
		}
		hcfg, err := wc.host(log)
		if err != nil {
			return nil, err
		}
		wasm, err := plugins.ReadSnapshot(spec.PluginPath)
		if err != nil {
			return nil, err
		}
		// Ready after the first instance: the rest of the pool fills in
		// the background while this worker already serves.
		p, err := host.Load(ctx, wasm, hcfg)
		if err != nil {
			return nil, err
		}
		return hostPlugin{p}, nil
	}
}

// releaseMemory returns the memory of a closed preflight plugin (compiled
// code, instance memory: tens of MiB for a Go guest) to the OS now rather
// than whenever the runtime gets to it: a primary with workers does not
// serve, so it should not keep a plugin's worth of memory resident.
func releaseMemory() { debug.FreeOSMemory() }

// handoff passes the plugin preflight accepted to the in-process server
// (--workers 0), so a version is loaded once instead of twice (preflight,
// then serve). It holds at most one plugin, the newest accepted.
type handoff struct {
	mu sync.Mutex
	p  *host.Plugin
}

// keep is preflight.Options.Keep.
func (h *handoff) keep(p *host.Plugin) {
	h.mu.Lock()
	old := h.p
	h.p = p
	h.mu.Unlock()
	if old != nil {
		old.Close(context.Background())
	}
}

// load serves the kept plugin when it is the version asked for, and loads
// the snapshot otherwise (a restart of the same version).
func (h *handoff) load(fallback workers.LoadFunc) workers.LoadFunc {
	return func(ctx context.Context, spec workers.Spec) (httpserve.Plugin, error) {
		h.mu.Lock()
		p := h.p
		if p != nil && p.Hash() == spec.Version {
			h.p = nil
		} else {
			p = nil
		}
		h.mu.Unlock()
		if p != nil {
			return hostPlugin{p}, nil
		}
		return fallback(ctx, spec)
	}
}

func (h *handoff) close() { h.keep(nil) }

// hostPlugin lets the worker's self-test tell a guest failure from a 500
// the guest answered on purpose.
type hostPlugin struct{ *host.Plugin }

func (p hostPlugin) Faults() uint64 {
	s := p.Stats()
	return s.Traps + s.Timeouts
}

// serveProcesses preflights the plugin file (compiling it once, which warms
// the cache the workers share), then runs the primary until ctx ends or a
// stop signal arrives. SIGHUP re-reads and preflights the file and rolls the
// workers to it, surge-then-drain.
func serveProcesses(ctx context.Context, pluginPath, file string, hcfg host.Config, cfg config.Config, po processOptions, log *slog.Logger) error {
	start := time.Now()
	mopts := managerOptions(hcfg, cfg, log) // reload.go
	load := loadSnapshot(log)
	st := &stager{cacheDir: hcfg.CacheDir}
	mopts.OnStage = st.onStage
	if po.Workers == workers.InProcess {
		// Serve the very plugin preflight loaded: one load per version.
		ho := &handoff{}
		defer ho.close()
		mopts.Preflight.Host.Next = selfTestGuard(host.NextHandler(hcfg))
		mopts.Preflight.Keep = ho.keep
		load = ho.load(load)
	}
	mgr, err := plugins.New(file, mopts)
	if err != nil {
		return runtimeError(err)
	}
	staged, decide, err := mgr.Stage(ctx)
	if err != nil {
		return runtimeError(fmt.Errorf("plugin %s: %w", pluginPath, err))
	}
	check := func(ctx context.Context) error {
		v, err := decide(ctx)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", pluginPath, err)
		}
		attrs := []any{"plugin", pluginPath, "sha256", v.Hash, "took", time.Since(start).Round(time.Millisecond)}
		if file != pluginPath {
			attrs = append(attrs, "built", file)
		}
		log.Info("plugin loaded", attrs...)
		return nil
	}
	var gate func(context.Context) error
	if po.Workers != workers.InProcess && host.Cached(hcfg.CacheDir, staged.Hash) {
		// Compiled before: the preflight runs while the first worker loads
		// the snapshot, which waits, not serving, until it passed.
		gate = check
	} else if err := check(ctx); err != nil {
		// A version never compiled is compiled once, here, before any
		// worker needs it; --workers 0 serves what the check loaded.
		return runtimeError(err)
	}
	wcfg, err := json.Marshal(newWorkerConfig(hcfg))
	if err != nil {
		return runtimeError(fmt.Errorf("encode worker config: %w", err))
	}
	specOf := func(v plugins.Version) workers.Spec {
		return workers.Spec{Version: v.Hash, PluginPath: v.Path, Config: wcfg}
	}
	st.specOf = specOf

	ln, err := workers.ListenerFromSystemd()
	if err == nil && ln == nil {
		ln, err = workers.Listen(cfg.Listen)
	}
	if err != nil {
		if gate != nil {
			if gerr := gate(ctx); gerr != nil {
				err = gerr // the plugin's problem comes first
			}
		}
		return runtimeError(err)
	}
	admin, err := listenAdmin(cfg, log) // ops.go
	if err != nil {
		ln.Close()
		return runtimeError(err)
	}
	err = runPrimary(ctx, mgr, cfg, specOf, st, log, workers.PrimaryOptions{ // reload.go: watch, prune
		Admin:    admin,
		Recycle:  recycleOptions(cfg),
		Listener: ln,
		Workers:  po.Workers,
		Spec:     specOf(staged),
		Gate:     gate,
		Load:     load,
		Reload: func(ctx context.Context) (workers.Spec, error) {
			ev := mgr.Reload(ctx)
			if ev.Err != nil {
				return workers.Spec{}, ev.Err
			}
			return specOf(ev.Version), nil
		},
		ControlPath:  po.Control,
		DrainTimeout: cfg.DrainTimeout,
		Server: httpserve.Options{
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    int(cfg.MaxHeaderBytes),
			AccessLog:         accessLogFormat(cfg),
		},
		Logger: log,
		OnReady: func(_ net.Addr) {
			log.Info("serving", "addr", listenerAddr(ln), "workers", po.Workers, "upstream", cfg.Upstream)
			if po.Workers != workers.InProcess {
				releaseMemory() // the preflight's plugin, once workers serve
			}
		},
	})
	var fast *workers.FastStopError
	if errors.As(err, &fast) {
		// Die by the repeated signal, as a shell expects of ^C ^C.
		if sig, ok := fast.Signal.(syscall.Signal); ok {
			log.Warn("stopped fast", "signal", sig.String())
			signal.Reset(sig)
			syscall.Kill(os.Getpid(), sig)
			time.Sleep(time.Second)
		}
		return runtimeError(err)
	}
	if err != nil {
		return runtimeError(err)
	}
	log.Info("stopped")
	return nil
}
