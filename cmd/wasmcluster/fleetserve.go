package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/serve"
	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// fleetStartWait is how long serve waits for NATS at start before it
// serves the last accepted version instead.
const fleetStartWait = 3 * time.Second

// fleetAuth are the NATS credentials of a fleet source: the kv.* ones
// (kv.creds_file, kv.nkey_file, kv.token_file, kv.timeout), so one set
// reaches both the store and the plugin source.
func fleetAuth(cfg config.Config) (fleet.Auth, error) {
	k := cfg.KV
	a := fleet.Auth{CredsFile: k.CredsFile, NKeyFile: k.NKeyFile, Timeout: k.Timeout}
	if k.TokenFile != "" {
		b, err := os.ReadFile(k.TokenFile)
		if err != nil {
			return a, usageError(&config.FieldError{Key: "kv.token_file", Value: k.TokenFile, Msg: err.Error()})
		}
		a.Token = strings.TrimSpace(string(b))
	}
	return a, nil
}

// dialFleet parses source and connects to it.
func dialFleet(source string, cfg config.Config) (*fleet.Conn, error) {
	src, err := fleet.ParseSource(source)
	if err != nil {
		return nil, usageError(err)
	}
	auth, err := fleetAuth(cfg)
	if err != nil {
		return nil, err
	}
	conn, err := fleet.Dial(src, auth)
	if err != nil {
		return nil, usageError(err)
	}
	return conn, nil
}

// runFleetServe serves a nats:// source: its object is mirrored into a
// local file that serve watches like any plugin file, and this instance
// reports into the fleet view.
func runFleetServe(ctx context.Context, source string, cfg config.Config, log *slog.Logger) error {
	if cfg.Workers == 0 {
		// --workers 0 does not watch the plugin file: it would never roll.
		return usageError(&config.FieldError{Key: "workers", Value: "0",
			Msg: "a nats:// plugin source needs worker processes (--workers 1 or more, or -1 for one per CPU): with --workers 0 published versions would never roll"})
	}
	conn, err := dialFleet(source, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	mir, err := newFleetMirror(conn, cfg, log)
	if err != nil {
		return err
	}
	if err := mir.Start(ctx, fleetStartWait); err != nil {
		return runtimeError(err)
	}
	opts, err := serveOptions(conn.Src.String(), mir.File(), cfg, log)
	if err != nil {
		return err
	}
	opts.Source = conn.Src.String()
	var status atomic.Pointer[func() control.Status]
	reverted := wireMirror(&opts, mir, &status, cfg)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	defer func() { cancel(); <-done; <-done }()
	go func() { mir.Run(ctx); done <- struct{}{} }()
	go func() {
		report := newReportFunc(&status, cfg.Listen)
		fleet.Reporter(ctx, conn, func() fleet.Report {
			r := report()
			r.Waiting, r.Holding = mir.SlotState()
			r.LastReverted = reverted.Load()
			return r
		}, log)
		done <- struct{}{}
	}()
	return runtimeErrorOrNil(runWithFallBack(ctx, opts, mir))
}

// wireMirror tells mir what the instance decides: accepted versions (the
// one served when NATS is away), refused ones and ended rolls (roll slots
// freed), reverts (the accepted copy goes back). The returned pointer
// holds the last version the instance went back from, for its report.
func wireMirror(opts *serve.Options, mir *fleet.Mirror, status *atomic.Pointer[func() control.Status], cfg config.Config) *atomic.Pointer[fleet.Refusal] {
	var reverted atomic.Pointer[fleet.Refusal]
	if !cfg.Plugin.Watch {
		mir.NoSlots() // the operator's reload rolls: a slot would wait for it
	}
	opts.OnAccepted = mir.Accepted
	opts.OnRefused = mir.RollEnded // a refusal ends the roll before it starts
	opts.OnStatus = func(f func() control.Status) { status.Store(&f) }
	mir.SetRunning(func() (string, bool) {
		f := status.Load()
		if f == nil {
			return "", true
		}
		st := (*f)()
		return st.Version, st.Target != ""
	})
	opts.AfterRoll = func(st control.RollStatus) {
		mir.RollEnded(st.Target)
		switch st.Outcome {
		case control.OutcomeReverted:
			mir.Reverted(st.From, st.Target)
			reverted.Store(&fleet.Refusal{Version: st.From, Error: st.Error, At: time.Now().UTC()})
		case control.OutcomeAborted:
			// The check accepted it, its workers did not start: what an
			// instance should serve at its next start is the version before.
			mir.Reverted(st.Target, st.From)
			reverted.Store(&fleet.Refusal{Version: st.Target, Error: st.Error, At: time.Now().UTC()})
		}
	}
	return &reverted
}

// runWithFallBack runs serve; when the published version is refused at
// start, it serves the last version this instance accepted instead (a
// machine restarting while a bad version is in the bucket comes back up
// on a good one, like the instances that never stopped).
func runWithFallBack(ctx context.Context, opts serve.Options, mir *fleet.Mirror) error {
	var ready atomic.Bool
	opts.OnReady = func(net.Addr) { ready.Store(true) }
	err := serve.Run(ctx, opts)
	if err != nil && !ready.Load() && preflight.IsRefusal(err) && mir.FallBack() {
		err = serve.Run(ctx, opts)
	}
	return err
}

// newFleetMirror keeps the mirror in the cache directory, so the last
// accepted version outlives the process; without one, in a temporary
// directory of this run.
func newFleetMirror(conn *fleet.Conn, cfg config.Config, log *slog.Logger) (*fleet.Mirror, error) {
	root, err := cfg.ResolveCacheDir()
	if err != nil {
		return nil, usageError(err)
	}
	if root == "" {
		if root, err = os.MkdirTemp("", "wasmcluster-fleet-"); err != nil {
			return nil, runtimeError(err)
		}
	}
	mir, err := fleet.NewMirror(conn, fleet.DirFor(root, conn.Src, cfg.Listen), log)
	if err != nil {
		return nil, runtimeError(err)
	}
	return mir, nil
}

// newReportFunc builds this instance's report from the primary's status;
// the request rate is the change of the workers' request counts since the
// previous report.
func newReportFunc(status *atomic.Pointer[func() control.Status], listen string) func() fleet.Report {
	host, _ := os.Hostname()
	var (
		lastN  uint64
		lastAt time.Time
		rate   float64
	)
	return func() fleet.Report {
		r := fleet.Report{ID: fleet.InstanceID(), Host: host, PID: os.Getpid(), Listen: listen, UpdatedAt: time.Now().UTC()}
		f := status.Load()
		if f == nil {
			return r
		}
		st := (*f)()
		r.Listen, r.Version, r.LastRoll, r.Workers = st.Listen, st.Version, st.LastRoll, st.Desired
		r.Settling = st.LastGood != "" && st.LastGood != st.Version
		if p := st.Plugin; p != nil && p.LastRefused != nil {
			r.LastRefused = &fleet.Refusal{Version: p.LastRefused.Version, Error: p.LastRefused.Error, At: p.LastRefused.At}
		}
		var n uint64
		for _, w := range st.Workers {
			n += w.Requests
			r.Errors += w.Errors
			if w.State == "ready" {
				r.WorkersReady++
			}
		}
		// The rate over the last second or more: the Reporter calls this
		// five times a second.
		switch {
		case lastAt.IsZero() || n < lastN:
			lastN, lastAt = n, time.Now()
		case time.Since(lastAt) >= time.Second:
			rate = float64(n-lastN) / time.Since(lastAt).Seconds()
			lastN, lastAt = n, time.Now()
		}
		r.RequestRate = rate
		return r
	}
}
