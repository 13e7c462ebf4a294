package serve

// Hot swap: the plugin watcher drives rolls, a watched version's first
// worker starts while the version is checked, and every roll ends by
// pruning the snapshots and compilation-cache entries nobody runs any more.

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// stager starts the first worker of a watched version's roll while the
// version is checked (workers.Primary.Prestage): the preflight and that
// worker's load overlap instead of following each other. Only for versions
// compiled before: a new one is compiled once, by the preflight, rather
// than by both at once.
type stager struct {
	pr       atomic.Pointer[workers.Primary] // nil until the primary exists
	cacheDir string
	specOf   func(plugins.Version) workers.Spec
}

// onStage is plugins.Options.OnStage.
func (s *stager) onStage(v plugins.Version, trig plugins.Trigger) {
	pr := s.pr.Load()
	if pr == nil || trig != plugins.TriggerWatch {
		return
	}
	if !host.Cached(s.cacheDir, v.Hash) {
		pr.Unstage("") // a worker staged for an older content is not needed
		return
	}
	pr.Prestage(s.specOf(v))
}

// swapper connects the plugin Manager to the primary's roll.
type swapper struct {
	mgr      *plugins.Manager
	build    func() *control.BuildStatus // Options.Build
	cacheDir string
	// storesRoot holds the snapshot store of every plugin sharing the
	// cache directory, ours as configured included.
	storesRoot string
	specOf     func(plugins.Version) workers.Spec
	log        *slog.Logger
	watching   atomic.Bool
	onAccepted func(hash string) // Options.OnAccepted
	onRefused  func(hash string) // Options.OnRefused
	onRoll     func(control.RollStatus)
}

// forward submits every accepted version for a roll (a newer one retargets
// a roll in progress). The Manager has logged and counted refusals
// already; status shows the last one.
func (sw *swapper) forward(ctx context.Context, pr *workers.Primary) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sw.mgr.Events():
			if ev.Accepted() {
				if sw.onAccepted != nil {
					sw.onAccepted(ev.Version.Hash)
				}
				pr.Submit(workers.RollRequest{Spec: sw.specOf(ev.Version), Trigger: string(ev.Trigger)})
			} else {
				pr.Unstage(ev.Hash)
				if sw.onRefused != nil && ev.Hash != "" {
					sw.onRefused(ev.Hash)
				}
			}
		}
	}
}

// afterRoll prunes snapshots of versions no longer in use (the Manager
// keeps its newest few and the current one besides), then the compilation
// cache entries of versions without a snapshot. The cache directory may be
// shared by other instances serving other plugins: the snapshots of every
// store beside ours count as in use, so their versions stay warm too (a
// revert, or another instance's next worker).
func (sw *swapper) afterRoll(st control.RollStatus, inUse []string) {
	defer releaseMemory() // the new version's preflight plugin
	if sw.onRoll != nil {
		sw.onRoll(st)
	}
	keep := append(inUse, sw.mgr.Stats().Current.Hash)
	removed, err := sw.mgr.Prune(keep...)
	if err != nil {
		sw.log.Warn("prune snapshots", "err", err)
	}
	// The siblings of the configured store, not of the current one: that
	// may be a spare in a temporary directory (the configured one refused
	// a write), which has none.
	stores, _ := filepath.Glob(filepath.Join(sw.storesRoot, "*"))
	for _, dir := range append(stores, sw.mgr.StoreDir()) {
		st, err := store.Open(dir)
		if err != nil {
			continue
		}
		if snaps, err := st.List(); err == nil {
			for _, s := range snaps {
				keep = append(keep, s.Hash)
			}
		}
	}
	if err := host.PruneCache(sw.cacheDir, keep...); err != nil {
		sw.log.Warn("prune compilation cache", "err", err)
	}
	if len(removed) > 0 {
		sw.log.Debug("pruned old plugin versions", "removed", len(removed))
	}
}

// status is the plugin part of `wasmcluster status`.
func (sw *swapper) status() *control.PluginStatus {
	s := sw.mgr.Stats()
	ps := &control.PluginStatus{
		Path: sw.mgr.Path(), Watching: sw.watching.Load(), Accepted: s.Current.Hash, Checking: s.Checking,
		NAccepted: s.Accepted, NRefused: s.Refused, NErrors: s.Errors,
	}
	if r := s.LastRefusal; r != nil && r.Err != nil {
		ps.LastRefused = &control.Refusal{Version: r.Hash, Error: r.Err.Error(), Trigger: string(r.Trigger), At: r.At}
	}
	if sw.build != nil {
		ps.Build = sw.build()
	}
	return ps
}

// releaseMemory returns the memory of a closed preflight plugin (compiled
// code, instance memory: tens of MiB for a Go guest) to the OS now rather
// than whenever the runtime gets to it: a primary with workers does not
// serve, so it should not keep a plugin's worth of memory resident.
func releaseMemory() { debug.FreeOSMemory() }
