package workers

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/admin"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// The primary side of metrics. Workers report cumulative counters in
// heartbeats (httpserve.Metrics); the supervisor keeps the latest snapshot
// of each process and, when a process exits, folds it into its slot's
// retired totals, so a slot's counters only grow across respawns, rolls
// and recycles. A surge worker shares its slot's label with the worker it
// replaces: series are summed per slot (the label users see in status).

// opsState is supervisor-owned (like the fields of Primary it sits in).
type opsState struct {
	last        map[*proc]*httpserve.Metrics
	rss         map[*proc]int64 // last RSS sample, bytes
	retired     map[int]*httpserve.Metrics
	restarts    map[string]uint64 // worker exits by reason (not at stop)
	rolls       map[string]uint64 // roll outcomes
	rollBkts    []uint64          // roll durations per rollBounds bucket, then +Inf
	rollSum     float64
	rolling     bool
	rollFrom    time.Time
	target      string       // version of the roll under way
	sampled     time.Time    // last RSS sample of every process
	fastSampled time.Time    // last sample of processes near max_rss
	recycle     recycleState // recycle.go
}

var rollBounds = []float64{1, 2.5, 5, 10, 30, 60, 120, 300}

func (o *opsState) init() {
	if o.last == nil {
		o.last = make(map[*proc]*httpserve.Metrics)
		o.rss = make(map[*proc]int64)
		o.retired = make(map[int]*httpserve.Metrics)
		o.restarts = make(map[string]uint64)
		o.rolls = make(map[string]uint64)
		o.rollBkts = make([]uint64, len(rollBounds)+1)
	}
}

// onBeat stores p's latest snapshot (supervisor goroutine).
func (pr *Primary) onBeat(p *proc, m *message) {
	pr.ops.init()
	if m.Metrics != nil {
		pr.ops.last[p] = m.Metrics
	}
}

// onProcExit retires p's counters into its slot and counts the exit.
func (pr *Primary) onProcExit(p *proc) {
	o := &pr.ops
	o.init()
	if m := o.last[p]; m != nil {
		r := o.retired[p.id]
		if r == nil {
			r = &httpserve.Metrics{}
			o.retired[p.id] = r
		}
		r.Add(m)
	}
	delete(o.last, p)
	delete(o.rss, p)
	pr.forgetRecycle(p)
	if pr.stopping {
		return
	}
	reason := p.reason
	if reason == "" {
		reason = "crash"
	}
	o.restarts[reasonLabel(reason)]++
	if p.reason == "" {
		pr.sd.status(fmt.Sprintf("worker %d exited (%s); respawning", p.id, describeShort(p.exitDesc)))
	}
}

func describeShort(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// reasonLabel keeps the reason label's values few: free-form reasons are
// cut at the first ':' or '('.
func reasonLabel(r string) string {
	for i, c := range r {
		if c == ':' || c == '(' {
			r = r[:i]
			break
		}
	}
	for len(r) > 0 && r[len(r)-1] == ' ' {
		r = r[:len(r)-1]
	}
	return r
}

// rollObserved records a roll's outcome (any goroutine).
func (pr *Primary) rollObserved(outcome string, d time.Duration) {
	pr.do(func() {
		o := &pr.ops
		o.init()
		o.rolls[outcome]++
		i := 0
		for i < len(rollBounds) && d.Seconds() > rollBounds[i] {
			i++
		}
		o.rollBkts[i]++
		o.rollSum += d.Seconds()
	})
}

// metricsSnapshot is what /metrics reports (supervisor goroutine).
func (pr *Primary) metricsSnapshot() admin.Snapshot {
	o := &pr.ops
	o.init()
	s := admin.Snapshot{
		Exits: maps.Clone(o.restarts), Rolls: maps.Clone(o.rolls),
		RollDurations: admin.Histogram{Bounds: rollBounds, Counts: slices.Clone(o.rollBkts), Sum: o.rollSum},
		States:        reportedStates(), Desired: pr.desired, Version: pr.spec.Version, Versions: map[string]int{},
		PrimaryUnavailable: pr.downAnswered.Load(),
	}
	by := map[int]*admin.Slot{}
	get := func(id int) *admin.Slot {
		if by[id] == nil {
			by[id] = &admin.Slot{ID: id}
		}
		return by[id]
	}
	for id, r := range o.retired {
		get(id).Total.Add(r)
	}
	for _, sl := range pr.slots {
		get(sl.id)
	}
	for p := range pr.procs {
		sm := get(p.id)
		s.States[string(p.state)]++
		s.Versions[p.spec.Version]++
		sm.InFlight += p.inFlight
		sm.Conns += pr.board.Conns(p.bslot)
		sm.RSS += o.rss[p]
		if m := o.last[p]; m != nil {
			sm.Total.Add(m)
			sm.PoolSize += m.PoolSize
			sm.PoolLive += m.PoolLive
			sm.PoolIdle += m.PoolIdle
			sm.PoolMax += m.PoolMax
			sm.Upgraded += m.Upgraded
		}
	}
	for _, id := range slices.Sorted(maps.Keys(by)) {
		s.Slots = append(s.Slots, *by[id])
	}
	return s
}

// reportedStates is a zero count of each process state /metrics reports.
func reportedStates() map[string]int {
	m := map[string]int{}
	for _, st := range []procState{stateStarting, stateReady, stateDraining, stateStopping} {
		m[string(st)] = 0
	}
	return m
}

// sampleRSS reads every process's RSS once a second, and every 200 ms the
// RSS of those above 90% of recycle's MaxRSS, so a worker near its limit is
// recycled promptly (supervisor goroutine). Recycling and /metrics use the
// samples.
func (pr *Primary) sampleRSS(now time.Time) {
	o := &pr.ops
	o.init()
	full := now.Sub(o.sampled) >= time.Second
	fast := now.Sub(o.fastSampled) >= 200*time.Millisecond
	if !full && !fast {
		return
	}
	if full {
		o.sampled = now
	}
	o.fastSampled = now
	near := pr.opts.Recycle.MaxRSS * 9 / 10
	for p := range pr.procs {
		if p.state != stateExited && (full || near > 0 && o.rss[p] > near) {
			o.rss[p] = readRSS(p.pid)
		}
	}
}

// opsStatus adds each process's latency buckets to a status snapshot
// (supervisor goroutine).
func (pr *Primary) opsStatus(st *control.Status) {
	for p, m := range pr.ops.last {
		for i := range st.Workers {
			if st.Workers[i].PID == p.pid && m != nil {
				st.Workers[i].LatencyBuckets = slices.Clone(m.Buckets)
				st.Workers[i].Upgraded, st.Workers[i].UpgradedTotal = m.Upgraded, m.UpgradedTotal
				for code, n := range m.Codes {
					if code >= 500 {
						st.Workers[i].Errors += n
					}
				}
			}
		}
	}
}
