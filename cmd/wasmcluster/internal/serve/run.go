package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// Run serves o.Plugin until ctx ends or a stop signal arrives, then drains;
// it returns nil after a graceful stop. In order: the plugin is snapshotted
// and checked (preflight, which compiles it once into the cache the workers
// share), the socket is bound, then the primary runs the workers and, with
// o.Watch, rolls them to every accepted version.
//
// Errors are wrapped; a *workers.FastStopError (a repeated stop signal cut
// the drain short) comes through errors.As for a caller that re-raises the
// signal.
func Run(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	var kvr *kvRuntime
	if err == nil {
		kvr, err = startKV(ctx, o.KV, o.Workers == workers.InProcess, o.Logger) // kv.go
	}
	if err == nil {
		defer kvr.close()
		o.Host.KV = kvr.KV()
		in := newInstance(o, kvr)
		defer in.close()
		if err = in.prepare(ctx); err == nil {
			return in.serve(ctx)
		}
	}
	if o.Listener != nil {
		o.Listener.Close() // Run owns it, also when it never served
	}
	return err
}

// instance is one Run: the plugin's Manager and the hot-swap wiring around
// the primary.
type instance struct {
	o     Options
	log   *slog.Logger
	start time.Time

	kvr    *kvRuntime // the shared store; nil when off
	mgr    *plugins.Manager
	load   workers.LoadFunc
	ho     *handoff // InProcess only
	st     *stager
	sw     *swapper
	wcfg   json.RawMessage // o.Host as every worker receives it
	staged plugins.Version // the version to start with
	gate   func(context.Context) error
	tmpMu  sync.Mutex
	tmps   []string // temporary snapshot roots, removed at the end
}

func newInstance(o Options, kvr *kvRuntime) *instance {
	primaryKV := func() (host.KV, error) { return kvr.KV(), nil }
	return &instance{o: o, log: o.Logger, start: time.Now(), kvr: kvr, load: loadSnapshot(o.Logger, primaryKV)}
}

func (in *instance) close() {
	if in.ho != nil {
		in.ho.close()
	}
	in.tmpMu.Lock()
	defer in.tmpMu.Unlock()
	for _, dir := range in.tmps {
		os.RemoveAll(dir)
	}
}

// snapshotsDir is the snapshot store of o.Plugin: inside the cache
// directory, beside the compiled code (the pruner reads its sibling
// stores), or, with no cache, in a temporary directory of this run.
func (in *instance) snapshotsDir() (string, error) {
	if in.o.Host.CacheDir == "" {
		return in.tempSnapshots()
	}
	return plugins.StoreDirFor(filepath.Join(in.o.Host.CacheDir, snapshotsSubdir), in.o.Plugin)
}

// tempSnapshots is a snapshot store in a temporary directory of this run
// (no cache directory, or one that refuses writes: plugins.Options.
// SpareStoreDir), removed when Run returns.
func (in *instance) tempSnapshots() (string, error) {
	tmp, err := os.MkdirTemp("", "wasmcluster-snapshots-")
	if err != nil {
		return "", fmt.Errorf("snapshot directory: %w", err)
	}
	in.tmpMu.Lock()
	in.tmps = append(in.tmps, tmp)
	in.tmpMu.Unlock()
	return plugins.StoreDirFor(tmp, in.o.Plugin)
}

// snapshotsSubdir is the directory inside the cache directory that holds one
// snapshot store per plugin path; the compiled code lives beside it.
const snapshotsSubdir = "snapshots"

// specOf is what a worker loads for v.
func (in *instance) specOf(v plugins.Version) workers.Spec {
	return workers.Spec{Version: v.Hash, PluginPath: v.Path, Config: in.wcfg}
}

// prepare opens the plugin's Manager and stages the version to start with:
// checked now, or, when its compiled code is cached, by the gate beside
// the first worker's start.
func (in *instance) prepare(ctx context.Context) error {
	wcfg, err := json.Marshal(in.o.Host)
	if err != nil {
		return fmt.Errorf("encode worker config: %w", err)
	}
	in.wcfg = wcfg
	in.st = &stager{cacheDir: in.o.Host.CacheDir, specOf: in.specOf}
	storeDir, err := in.snapshotsDir()
	if err != nil {
		return err
	}
	mopts := plugins.Options{
		StoreDir:      storeDir,
		SpareStoreDir: in.tempSnapshots,
		Rules:         in.o.PluginRules,
		Preflight:     preflight.Options{Host: in.o.Host, Path: in.o.PreflightPath, Timeout: in.o.PreflightTimeout},
		OnStage:       in.st.onStage,
		Logger:        in.log,
	}
	if in.o.Workers == workers.InProcess {
		// Serve the very plugin preflight loaded: one load per version. Its
		// next (preflight's keptNext) already keeps the self-test request
		// off the upstream, as selfTestGuard does in a worker.
		in.ho = &handoff{}
		mopts.Preflight.Keep = in.ho.keep
		in.load = in.ho.load(in.load)
	}
	if in.mgr, err = plugins.New(in.o.Plugin, mopts); err != nil {
		return err
	}
	in.sw = &swapper{mgr: in.mgr, build: in.o.Build, cacheDir: in.o.Host.CacheDir, storesRoot: filepath.Dir(storeDir), specOf: in.specOf, log: in.log,
		onAccepted: in.o.OnAccepted, onRefused: in.o.OnRefused, onRoll: in.o.AfterRoll}
	return in.stage(ctx)
}

func (in *instance) stage(ctx context.Context) error {
	staged, decide, err := in.mgr.Stage(ctx)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", in.o.Source, err)
	}
	in.staged = staged
	check := func(ctx context.Context) error {
		v, err := decide(ctx)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", in.o.Source, err)
		}
		attrs := []any{"plugin", in.o.Source, "sha256", v.Hash, "took", time.Since(in.start).Round(time.Millisecond)}
		if in.o.Plugin != in.o.Source {
			attrs = append(attrs, "built", in.o.Plugin)
		}
		in.log.Info("plugin loaded", attrs...)
		if in.o.OnAccepted != nil {
			in.o.OnAccepted(v.Hash)
		}
		return nil
	}
	if in.o.Workers != workers.InProcess && host.Cached(in.o.Host.CacheDir, staged.Hash) {
		// Compiled before: the preflight runs while the first worker loads
		// the snapshot, which waits, not serving, until it passed.
		in.gate = check
		return nil
	}
	// A version never compiled is compiled once, here, before any worker
	// needs it; InProcess serves what the check loaded.
	return check(ctx)
}

// serve binds the sockets and runs the primary until it stops.
func (in *instance) serve(ctx context.Context) error {
	ln, admin, err := in.listen(ctx)
	if err != nil {
		return err
	}
	if err := in.runPrimary(ctx, in.primaryOptions(ln, admin)); err != nil {
		return err
	}
	in.log.Info("stopped")
	return nil
}

// listen binds the serving socket and the admin one. When binding fails while the plugin's check is still pending, the
// plugin's problem is the one reported.
func (in *instance) listen(ctx context.Context) (ln, admin net.Listener, err error) {
	ln = in.o.Listener
	if ln == nil {
		ln, err = workers.ListenerFromSystemd()
		if err == nil && ln == nil {
			ln, err = workers.Listen(in.o.Listen)
		}
	}
	if err != nil {
		if in.gate != nil {
			if gerr := in.gate(ctx); gerr != nil {
				err = gerr
			}
		}
		return nil, nil, err
	}
	if admin, err = in.listenAdmin(); err != nil {
		ln.Close()
		return nil, nil, err
	}
	return ln, admin, nil
}

// listenAdmin binds the admin listener, or returns nil without one. A
// taken address only disables it, with a warning, under AdminIfFree.
func (in *instance) listenAdmin() (net.Listener, error) {
	if in.o.Admin == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", in.o.Admin)
	if err == nil {
		return ln, nil
	}
	if in.o.AdminIfFree && errors.Is(err, syscall.EADDRINUSE) {
		in.log.Warn("admin listener disabled: its default address is taken (set admin or --admin to another address)", "admin", in.o.Admin)
		return nil, nil
	}
	return nil, fmt.Errorf("admin listener %s: %w", in.o.Admin, err)
}

// serverOptions is o.Server for the primary. In-process the self-test is
// not sent again when a version starts serving: the check sent it to that
// very plugin (the handoff), and every version served passed that check
// in this process. Worker processes each load their own, so they test it.
func (in *instance) serverOptions() httpserve.Options {
	so := in.o.Server
	if in.o.Workers == workers.InProcess {
		so.SelfTestPath = ""
	}
	return so
}

func (in *instance) primaryOptions(ln, admin net.Listener) workers.PrimaryOptions {
	o := in.o
	return workers.PrimaryOptions{
		Listener:      ln,
		Admin:         admin,
		Workers:       o.Workers,
		Spec:          in.specOf(in.staged),
		Gate:          in.gate,
		Load:          in.load,
		Reload:        in.reload,
		ControlPath:   o.ControlPath,
		DrainTimeout:  o.DrainTimeout,
		TLS:           o.TLS,
		Server:        in.serverOptions(),
		Recycle:       o.Recycle,
		Backoff:       workers.Backoff{StableAfter: o.StableAfter},
		IgnoreSignals: o.IgnoreSignals,
		Logger:        in.log,
		WorkerProcs:   workerProcs(o.WorkerProcs, o.Host.Uninterruptible),
		PluginStatus:  in.sw.status,
		WorkerEnv:     in.kvr.WorkerEnv(),
		KVStatus:      in.kvr.Status(),
		AfterRoll:     in.sw.afterRoll,
		OnReady: func(addr net.Addr) {
			upstream := ""
			if u := o.Host.Upstream; u != nil {
				upstream = u.String()
			}
			in.log.Info("serving", "addr", listenerAddr(ln), "workers", o.Workers, "upstream", upstream, "tls", len(o.TLS) > 0)
			if o.Workers != workers.InProcess {
				releaseMemory() // the preflight's plugin, once workers serve
			}
			if o.OnReady != nil {
				o.OnReady(addr)
			}
		},
	}
}

// reload is PrimaryOptions.Reload (SIGHUP, `wasmcluster reload`): the
// plugin file's content now, checked.
func (in *instance) reload(ctx context.Context) (workers.Spec, error) {
	if in.o.BeforeReload != nil {
		if err := in.o.BeforeReload(ctx); err != nil {
			return workers.Spec{}, err
		}
	}
	ev := in.mgr.Reload(ctx)
	if ev.Err != nil {
		if in.o.OnRefused != nil && ev.Hash != "" {
			in.o.OnRefused(ev.Hash)
		}
		return workers.Spec{}, ev.Err
	}
	// What a reload accepts is accepted as a watched version is: a fleet
	// instance keeps it as the one to serve when NATS is away.
	if in.o.OnAccepted != nil {
		in.o.OnAccepted(ev.Version.Hash)
	}
	return in.specOf(ev.Version), nil
}

// runPrimary runs the primary; with worker processes and o.Watch, every
// version the Manager accepts is rolled out, and refused ones only show in
// logs and status.
func (in *instance) runPrimary(ctx context.Context, opts workers.PrimaryOptions) error {
	if opts.Workers == workers.InProcess {
		return workers.RunPrimary(ctx, opts)
	}
	pr, err := workers.NewPrimary(opts)
	if err != nil {
		return err
	}
	in.st.pr.Store(pr)
	if in.o.OnStatus != nil {
		in.o.OnStatus(pr.Status)
	}
	if in.o.Watch {
		defer in.watch(ctx, pr)()
	}
	return pr.Run(ctx)
}

// watch runs the plugin watcher and forwards what it accepts to pr, until
// the returned func is called.
func (in *instance) watch(ctx context.Context, pr *workers.Primary) (stop func()) {
	in.sw.watching.Store(true)
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := in.mgr.Run(wctx); err != nil && wctx.Err() == nil {
			in.log.Error("plugin watcher stopped; SIGHUP and wasmcluster reload still roll", "err", err)
		}
		in.sw.watching.Store(false)
	}()
	go func() {
		defer wg.Done()
		in.sw.forward(wctx, pr)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// listenerAddr spells ln's address the way Options.Listen takes it, with
// the real port when :0 was asked for.
func listenerAddr(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}

// workerProcs keeps Go's default GOMAXPROCS in workers serving an
// uninterruptible guest: one stuck in a loop holds its thread for good,
// and the worker's own exit on a stuck guest needs another to run on.
// Interruptible guests get the setting (worker_procs; 0 is the workers
// package's share of the cores).
func workerProcs(setting int, uninterruptible bool) int {
	if uninterruptible {
		return -1
	}
	return setting
}
