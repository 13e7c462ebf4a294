package main

// Hot swap (issue 5): the plugin watcher drives rolls, `wasmcluster reload`
// asks for one through the control socket, and every roll ends by pruning
// the snapshots and compilation-cache entries nobody runs any more.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// managerOptions is the plugin Manager's configuration: preflight with the
// workers' host configuration, the self-test path and time bound.
func managerOptions(hcfg host.Config, cfg config.Config, log *slog.Logger) plugins.Options {
	return plugins.Options{
		Preflight: preflight.Options{Host: hcfg, Path: cfg.Plugin.PreflightPath, Timeout: cfg.Plugin.PreflightTimeout},
		Logger:    log,
	}
}

// stager starts the first worker of a watched version's roll while the
// version is checked (workers.Primary.Prestage): the preflight and that
// worker's load overlap instead of following each other. Only for versions
// compiled before: a new one is compiled once, by the preflight, rather
// than by both at once.
type stager struct {
	pr       atomic.Pointer[workers.Primary]
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
	cacheDir string
	log      *slog.Logger
	watching atomic.Bool
}

// runPrimary runs the primary with the hot-swap wiring: with plugin.watch,
// every version the Manager accepts is rolled out (a newer one retargets a
// roll in progress); refused ones only show in logs and status.
func runPrimary(ctx context.Context, mgr *plugins.Manager, cfg config.Config, specOf func(plugins.Version) workers.Spec, st *stager, log *slog.Logger, opts workers.PrimaryOptions) error {
	sw := &swapper{mgr: mgr, cacheDir: cfg.ResolveCacheDir(), log: log}
	opts.PluginStatus = sw.status
	opts.AfterRoll = sw.afterRoll
	if opts.Workers == workers.InProcess {
		return workers.RunPrimary(ctx, opts)
	}
	pr, err := workers.NewPrimary(opts)
	if err != nil {
		return err
	}
	st.pr.Store(pr)
	if cfg.Plugin.Watch {
		sw.watching.Store(true)
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := mgr.Run(wctx); err != nil && wctx.Err() == nil {
				log.Error("plugin watcher stopped; SIGHUP and wasmcluster reload still roll", "err", err)
			}
			sw.watching.Store(false)
		}()
		go func() {
			defer wg.Done()
			sw.forward(wctx, pr, specOf)
		}()
		defer func() {
			cancel()
			wg.Wait()
		}()
	}
	return pr.Run(ctx)
}

// forward submits every accepted version for a roll. The Manager has
// logged and counted refusals already; status shows the last one.
func (sw *swapper) forward(ctx context.Context, pr *workers.Primary, specOf func(plugins.Version) workers.Spec) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sw.mgr.Events():
			if ev.Accepted() {
				pr.Submit(workers.RollRequest{Spec: specOf(ev.Version), Trigger: string(ev.Trigger)})
			} else {
				pr.Unstage(ev.Hash)
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
func (sw *swapper) afterRoll(_ control.RollStatus, inUse []string) {
	defer releaseMemory() // the new version's preflight plugin
	keep := append(inUse, sw.mgr.Stats().Current.Hash)
	removed, err := sw.mgr.Prune(keep...)
	if err != nil {
		sw.log.Warn("prune snapshots", "err", err)
	}
	stores, _ := filepath.Glob(filepath.Join(filepath.Dir(sw.mgr.StoreDir()), "*"))
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
	return ps
}

// newReloadCmd is `wasmcluster reload [--wait] [--control PATH]`.
func newReloadCmd(stdout io.Writer) *cobra.Command {
	var wait bool
	var controlPath string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Re-read the plugin and roll the workers to it",
		Long: `Ask the running instance to re-read its plugin file, check it (preflight) and
replace the workers one at a time, as SIGHUP does. A refused plugin fails the
command and the old version keeps serving. With --wait, the command returns
when the roll finished and fails if it did not succeed (a new worker crashed
or never became ready), fit for systemd's ExecReload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := controlPath
			if path == "" {
				switch socks := control.FindSockets(); len(socks) {
				case 0:
					path = control.DefaultPath()
				case 1:
					path = socks[0]
				default:
					return usageError(fmt.Errorf("%d instances are running (%v); pick one with --control", len(socks), socks))
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := control.Reload(ctx, path, wait)
			if err != nil {
				return runtimeError(err)
			}
			if res.Roll != nil {
				_, err = fmt.Fprintf(stdout, "rolled to %s: %d workers replaced in %s\n", shortHash(res.Version), res.Roll.Replaced,
					time.Duration(res.Roll.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
			} else {
				_, err = fmt.Fprintf(stdout, "rolling to %s\n", shortHash(res.Version))
			}
			return runtimeErrorOrNil(err)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the roll finished; fail if it did not succeed")
	cmd.Flags().StringVar(&controlPath, "control", "", "control socket of the instance (default "+control.DefaultPath()+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting after this long")
	return cmd
}

// printRoll is the roll and plugin part of the status text.
func printRoll(w io.Writer, st *control.Status) {
	if st.Target != "" && st.Roll != nil {
		fmt.Fprintf(w, "rolling to %s (from %s, %s, %d replaced so far, %s)\n", shortHash(st.Target), shortHash(st.Roll.From),
			st.Roll.Trigger, st.Roll.Replaced, fmtSeconds(st.Roll.DurationSeconds))
	} else if r := st.Roll; r != nil {
		fmt.Fprintf(w, "last roll: %s to %s (%s, %d replaced in %s, %s ago)", r.Outcome, shortHash(r.Target), r.Trigger, r.Replaced,
			fmtSeconds(r.DurationSeconds), fmtSeconds(time.Since(r.StartedAt).Seconds()))
		if r.Error != "" {
			fmt.Fprintf(w, ": %s", r.Error)
		}
		fmt.Fprintln(w)
	} else if st.LastRoll != "" {
		fmt.Fprintf(w, "last roll: %s\n", st.LastRoll)
	}
	p := st.Plugin
	if p == nil {
		return
	}
	watch := "watched"
	if !p.Watching {
		watch = "not watched"
	}
	fmt.Fprintf(w, "plugin %s (%s): %d accepted, %d refused", p.Path, watch, p.NAccepted, p.NRefused)
	if p.Checking != "" {
		fmt.Fprintf(w, ", checking %s", shortHash(p.Checking))
	}
	fmt.Fprintln(w)
	if r := p.LastRefused; r != nil {
		fmt.Fprintf(w, "last refused: %s (%s ago): %s\n", shortHash(r.Version), fmtSeconds(time.Since(r.At).Seconds()), r.Error)
	}
}
