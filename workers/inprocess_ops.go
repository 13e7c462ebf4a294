package workers

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/admin"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// What the in-process server reports, and its reload: the counterparts of
// the primary's status, admin source and roll.

// reload loads the Reload Spec (or the current one again), self-tests it
// and swaps it in; the old plugin is closed once its requests finished.
// It runs beside the loop, one reload at a time.
func (ip *inProcess) reload(ctx context.Context) {
	ip.reloads.Lock()
	defer ip.reloads.Unlock()
	ip.sd.reloading("reloading: checking the plugin")
	var spec Spec
	if !ip.do(func() { spec = ip.spec }) {
		return
	}
	if ip.opts.Reload != nil {
		s, err := ip.opts.Reload(ctx)
		if err != nil {
			ip.reloadFailed(err)
			return
		}
		spec = s
	}
	np, ver, err := ip.load(ctx, spec)
	if err != nil {
		ip.reloadFailed(err)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, ip.opts.DrainTimeout)
	defer cancel()
	old, err := ip.srv.Swap(sctx, np)
	if err != nil {
		ip.log.Warn("closing the old plugin with requests still running", keyErr, err)
	}
	old.Close(context.Background()) // a straggler gets a 500 rather than a leak
	var line string
	ip.do(func() {
		ip.spec, ip.version = spec, ver
		line = ip.readyLine()
	})
	ip.log.Info("reloaded in-process", keyVersion, ver)
	ip.sd.reloadEnded(line)
}

func (ip *inProcess) reloadFailed(err error) {
	ip.log.Error("reload failed; keeping the old version", keyErr, err)
	ip.sd.reloadEnded("reload failed (" + err.Error() + "); serving the old version")
}

func (ip *inProcess) controlStatus(context.Context, json.RawMessage) (any, error) {
	var st control.Status
	if !ip.do(func() { st = ip.status() }) {
		return nil, ErrStopping
	}
	return st, nil
}

// state is the one worker's state as status and /metrics show it.
func (ip *inProcess) state() procState {
	if ip.stopping {
		return stateDraining
	}
	return stateReady
}

// status is the control socket's answer (loop goroutine).
func (ip *inProcess) status() control.Status {
	up := time.Since(ip.started).Seconds()
	m := ip.srv.Metrics()
	return control.Status{
		TLS: ip.tls.status(),
		PID: os.Getpid(), Listen: ip.ln.Addr().String(), Control: ip.ctlPath, UptimeSeconds: up,
		InProcess: true, Version: ip.version, Stopping: ip.stopping,
		Workers: []control.WorkerStatus{{
			ID: 0, PID: os.Getpid(), State: string(ip.state()), Version: ip.version, UptimeSeconds: up,
			Requests: ip.srv.Requests(), InFlight: ip.srv.InFlight(), RSSBytes: readRSS(os.Getpid()),
			LatencyBuckets: slices.Clone(m.Buckets), Upgraded: m.Upgraded, UpgradedTotal: m.UpgradedTotal,
		}},
		KV: kvStatus(&ip.opts, ip.metricsSnapshot().Slots), // kv.go
	}
}

// inProcessSource is the in-process server as the admin listener sees it:
// one slot, id 0, served by this process.
type inProcessSource struct{ ip *inProcess }

func (a inProcessSource) Snapshot() (admin.Snapshot, bool) {
	var s admin.Snapshot
	ok := a.ip.do(func() { s = a.ip.metricsSnapshot() })
	s.KV = kvStatus(&a.ip.opts, s.Slots) // kv.go
	return s, ok
}

func (a inProcessSource) Responsive(d time.Duration) bool { return a.ip.responsive(d) }

// Readiness: ready while serving, not while draining.
func (a inProcessSource) Readiness() admin.Readiness {
	rd := admin.Readiness{Reason: "stopped", Desired: 1}
	a.ip.do(func() {
		rd.Version, rd.Reason = a.ip.version, ""
		if a.ip.stopping {
			rd.Reason = "stopping"
			return
		}
		rd.Ready, rd.Workers = true, 1
	})
	kvReadiness(&a.ip.opts, &rd) // kv.go
	return rd
}

// metricsSnapshot is what /metrics reports (loop goroutine).
func (ip *inProcess) metricsSnapshot() admin.Snapshot {
	m := ip.srv.Metrics()
	states := reportedStates()
	states[string(ip.state())] = 1
	return admin.Snapshot{
		Slots: []admin.Slot{{ID: 0, Total: *m, InFlight: ip.srv.InFlight(), RSS: readRSS(os.Getpid()),
			PoolSize: m.PoolSize, PoolLive: m.PoolLive, PoolIdle: m.PoolIdle, PoolMax: m.PoolMax, Upgraded: m.Upgraded}},
		RollDurations: admin.Histogram{Bounds: rollBounds},
		States:        states, Desired: 1, Version: ip.version, Versions: map[string]int{ip.version: 1},
	}
}
