package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/serve"
	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins/build"
	"github.com/wasmcluster/wasmcluster/plugins/watch"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// runServe builds the plugin when it is a source directory, maps the
// configuration onto serve.Options and runs it (package serve: preflight,
// listen, the primary and its workers, hot swap) until ctx is done or a
// stop signal arrives. Every error serve returns is a runtime failure.
func runServe(ctx context.Context, pluginPath string, cfg config.Config, log *slog.Logger) error {
	if fleet.IsSource(pluginPath) {
		return runFleetServe(ctx, pluginPath, cfg, log) // fleetserve.go
	}
	src, err := pluginFile(ctx, pluginPath, cfg, log) // build.go
	if err != nil {
		return err
	}
	opts, err := serveOptions(pluginPath, src.file, cfg, log)
	if err != nil {
		return err
	}
	if src.dev != nil {
		stop := startDevLoop(ctx, src.dev, &opts, log)
		defer stop()
	}
	err = serve.Run(ctx, opts)
	var fast *workers.FastStopError
	if errors.As(err, &fast) {
		// Die by the repeated signal, as a shell expects of ^C ^C.
		if sig, ok := fast.Signal.(syscall.Signal); ok {
			log.Warn("stopped fast", "signal", sig.String())
			signal.Reset(sig)
			syscall.Kill(os.Getpid(), sig)
			time.Sleep(time.Second)
		}
	}
	return runtimeErrorOrNil(err)
}

// startDevLoop wires the dev loop of a plugin served from its sources:
// status shows its builds, reload rebuilds first, and, when the plugin
// file is watched (worker processes, plugin.watch), a save rebuilds and the
// watcher swaps the new module in like any write of the file.
func startDevLoop(ctx context.Context, dev *build.Dev, opts *serve.Options, log *slog.Logger) (stop func()) {
	opts.Build = devStatus(dev)
	opts.BeforeReload = func(ctx context.Context) error {
		_, err := dev.Rebuild(ctx)
		return err
	}
	if !opts.Watch || opts.Workers == workers.InProcess {
		log.Info("not rebuilding on save: the plugin file is not watched (plugin.watch off or --workers 0); wasmcluster reload rebuilds", "dir", dev.Dir())
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := dev.Run(ctx); err != nil {
			log.Error("not rebuilding on save any more; wasmcluster reload still rebuilds", "dir", dev.Dir(), "err", err)
		}
	}()
	log.Info("rebuilding on save", "dir", dev.Dir())
	return func() {
		cancel()
		<-done
	}
}

// serveOptions maps the CLI's configuration onto serve's plain structs.
// file is the module to serve: pluginPath itself, or what was built from it.
func serveOptions(pluginPath, file string, cfg config.Config, log *slog.Logger) (serve.Options, error) {
	hcfg, err := hostConfig(filepath.Base(pluginPath), cfg, log)
	if err != nil {
		return serve.Options{}, err
	}
	if hcfg.Uninterruptible && cfg.Workers == workers.InProcess {
		// Nothing outside could stop a runaway guest in this process.
		return serve.Options{}, usageError(&config.FieldError{Key: "plugin.interrupt", Value: "false",
			Msg: "needs worker processes (--workers 1 or more): with --workers 0 a guest that overruns its deadline could never be stopped"})
	}
	pairs, err := tlsPairs(cfg) // tls.go
	if err != nil {
		return serve.Options{}, err
	}
	kvc, err := kvConfig(cfg) // kv.go
	if err != nil {
		return serve.Options{}, err
	}
	admin := cfg.Admin
	if admin == "off" {
		admin = ""
	}
	if admin != "" && !loopbackAddr(admin) {
		log.Warn("admin listener is not on a loopback address: anyone who can reach it reads /metrics (request counts and latencies, worker memory, plugin versions and refusals) and /healthz, /readyz; keep it on 127.0.0.1 or firewall it",
			"admin", admin)
	}
	return serve.Options{
		Plugin:      file,
		PluginRules: watch.Rules{MaxSize: int64(cfg.Plugin.MaxSize), AllowInsecure: cfg.Plugin.AllowInsecurePath},
		Source:      pluginPath,
		Host:        hcfg,
		Workers:     cfg.Workers,
		WorkerProcs: cfg.WorkerProcs,
		ControlPath: cfg.Control,
		Listen:      cfg.Listen,
		TLS:         pairs,
		Admin:       admin,
		// The default address being taken (another instance on this
		// machine) only disables the admin listener, as the control socket
		// falls back beside a taken default; an address someone chose must
		// work.
		AdminIfFree:      cfg.Admin == config.Default().Admin,
		Server:           httpOptions(cfg),
		Recycle:          recycleOptions(cfg),
		StableAfter:      cfg.Plugin.StableAfter,
		DrainTimeout:     cfg.DrainTimeout,
		Watch:            cfg.Plugin.Watch,
		PreflightPath:    cfg.Plugin.PreflightPath,
		PreflightTimeout: cfg.Plugin.PreflightTimeout,
		Logger:           log,
		KV:               kvc,
	}, nil
}

// httpOptions tunes each worker's HTTP server.
func httpOptions(cfg config.Config) httpserve.Options {
	return httpserve.Options{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    int(cfg.MaxHeaderBytes),
		AccessLog:         accessLogFormat(cfg),
		TrustedProxies:    cfg.TrustedProxies,
		ProxyProtocol:     cfg.ProxyProtocol,
		H2C:               cfg.H2C,
	}
}

// hostConfig maps the CLI's configuration onto the host's plain struct.
func hostConfig(name string, cfg config.Config, log *slog.Logger) (host.Config, error) {
	guestConfig := []byte(cfg.Plugin.Config)
	if f := cfg.Plugin.ConfigFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return host.Config{}, usageError(&config.FieldError{Key: "plugin.config_file", Value: f, Msg: err.Error()})
		}
		guestConfig = b
	}
	cacheDir, err := cfg.ResolveCacheDir()
	if err != nil {
		return host.Config{}, usageError(err)
	}
	if cacheDir != "" {
		// Fail here, naming the key, rather than at the first snapshot.
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return host.Config{}, usageError(&config.FieldError{Key: "cache_dir", Value: cfg.CacheDir,
				Msg: fmt.Sprintf("cannot create %s (%v); set cache_dir (--cache-dir) to a writable directory", cacheDir, errors.Unwrap(err))})
		}
	}
	env, mounts, err := grants(cfg, log) // grants.go
	if err != nil {
		return host.Config{}, err
	}
	ca, err := upstreamCA(cfg) // tls.go
	if err != nil {
		return host.Config{}, err
	}
	return host.Config{
		Name:                name,
		Env:                 env,
		Mounts:              mounts,
		UpstreamCA:          ca,
		CacheDir:            cacheDir,
		GuestConfig:         guestConfig,
		Upstream:            cfg.UpstreamURL(),
		PoolSize:            cfg.Plugin.PoolSize,
		MemoryBudget:        int64(cfg.Plugin.MemoryBudget),
		PoolWait:            cfg.Plugin.PoolWait,
		PoolKeep:            cfg.Plugin.PoolKeep,
		RequestTimeout:      cfg.RequestTimeout,
		MaxRequestBody:      int64(cfg.MaxRequestBody),
		MaxBufferedResponse: int64(cfg.Plugin.MaxBufferedResponse),
		MemoryLimitPages:    cfg.Plugin.MemoryLimitPages,
		Uninterruptible:     !cfg.Plugin.Interrupt,
		InitTimeout:         cfg.Plugin.InitTimeout,
		Logger:              log,
		OutboundGrant:       outboundGrant(cfg, log), // outbound.go
		KVMaxValue:          int64(cfg.KV.MaxValue),
		KVTimeout:           cfg.KV.Timeout,
	}, nil
}

// loopbackAddr reports whether the host of addr (host:port) only answers
// on this machine: a loopback IP or "localhost". An empty host or 0.0.0.0
// listens everywhere.
func loopbackAddr(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func recycleOptions(cfg config.Config) workers.RecycleOptions {
	r := cfg.Recycle
	return workers.RecycleOptions{
		MaxRequests:       uint64(r.MaxRequests),
		MaxRequestsJitter: uint64(r.MaxRequestsJitter),
		MaxRSS:            int64(r.MaxRSS),
		MaxRSSFor:         r.MaxRSSFor,
		MaxAge:            r.MaxAge,
	}
}

func accessLogFormat(cfg config.Config) string {
	if cfg.Log.Access == "off" {
		return httpserve.AccessLogOff
	}
	return cfg.Log.Access
}
