package workers

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmcluster/wasmcluster/workers/httpserve"

	"github.com/wasmcluster/wasmcluster/workers/control"
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
	lnInode     uint64       // listening socket's inode, for the backlog
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
		pr.sdStatus(fmt.Sprintf("worker %d exited (%s); respawning", p.id, describeShort(p.exitDesc)))
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

// slotMetrics is one slot's aggregate at scrape time.
type slotMetrics struct {
	id       int
	total    httpserve.Metrics
	inFlight int64
	rss      int64
	pool     [3]int // size, live, idle over live processes
}

type metricsSnapshot struct {
	slots    []slotMetrics
	restarts map[string]uint64
	rolls    map[string]uint64
	rollBkts []uint64
	rollSum  float64
	states   map[string]int
	desired  int
	version  string
	versions map[string]int // live processes by version
	lnInode  uint64
}

// metricsSnapshot runs on the supervisor goroutine.
func (pr *Primary) metricsSnapshot() metricsSnapshot {
	o := &pr.ops
	o.init()
	s := metricsSnapshot{
		restarts: maps.Clone(o.restarts), rolls: maps.Clone(o.rolls), rollBkts: slices.Clone(o.rollBkts),
		rollSum: o.rollSum, states: map[string]int{}, desired: pr.desired, version: pr.spec.Version,
		versions: map[string]int{}, lnInode: pr.listenerInode(),
	}
	by := map[int]*slotMetrics{}
	get := func(id int) *slotMetrics {
		if by[id] == nil {
			by[id] = &slotMetrics{id: id}
		}
		return by[id]
	}
	for id, r := range o.retired {
		get(id).total.Add(r)
	}
	for _, sl := range pr.slots {
		get(sl.id)
	}
	for p := range pr.procs {
		sm := get(p.id)
		s.states[string(p.state)]++
		s.versions[p.spec.Version]++
		sm.inFlight += p.inFlight
		sm.rss += o.rss[p]
		if m := o.last[p]; m != nil {
			sm.total.Add(m)
			sm.pool[0] += m.PoolSize
			sm.pool[1] += m.PoolLive
			sm.pool[2] += m.PoolIdle
		}
	}
	for _, id := range slices.Sorted(maps.Keys(by)) {
		s.slots = append(s.slots, *by[id])
	}
	return s
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

// collector is an unchecked prometheus.Collector over the supervisor's
// state: one snapshot per scrape, no duplicated bookkeeping.
type collector struct{ pr *Primary }

func (collector) Describe(chan<- *prometheus.Desc) {}

var (
	descRequests = prometheus.NewDesc("wasmcluster_requests_total", "HTTP requests served, by worker slot, status code and class.", []string{"worker", "code", "class"}, nil)
	descLatency  = prometheus.NewDesc("wasmcluster_request_duration_seconds", "Time from the plugin receiving a request to its answer, by worker slot.", []string{"worker"}, nil)
	descInFlight = prometheus.NewDesc("wasmcluster_requests_in_flight", "Requests being served, by worker slot.", []string{"worker"}, nil)
	descTraps    = prometheus.NewDesc("wasmcluster_guest_traps_total", "Requests answered 500 because the guest trapped.", []string{"worker"}, nil)
	descTimeouts = prometheus.NewDesc("wasmcluster_guest_timeouts_total", "Requests answered 504 because the guest ran past request_timeout.", []string{"worker"}, nil)
	descWaits    = prometheus.NewDesc("wasmcluster_pool_waits_total", "Requests that found every guest instance busy and waited for one (raise plugin.pool_size if this grows).", []string{"worker"}, nil)
	descPool     = prometheus.NewDesc("wasmcluster_pool_instances", "Guest instances per worker slot: size is the bound, live exist, idle wait in the pool.", []string{"worker", "state"}, nil)
	descRSS      = prometheus.NewDesc("wasmcluster_worker_rss_bytes", "Resident memory of the worker slot's processes (sampled every second).", []string{"worker"}, nil)
	descRestarts = prometheus.NewDesc("wasmcluster_worker_exits_total", "Worker processes that exited while serving, by reason (crash, replaced, recycle max_rss, heartbeat timeout, ...).", []string{"reason"}, nil)
	descRolls    = prometheus.NewDesc("wasmcluster_rolls_total", "Rolls to a new plugin version, by outcome.", []string{"outcome"}, nil)
	descRollDur  = prometheus.NewDesc("wasmcluster_roll_duration_seconds", "Duration of rolls.", nil, nil)
	descInfo     = prometheus.NewDesc("wasmcluster_plugin_info", "The plugin version new workers start (value 1).", []string{"version"}, nil)
	descVersions = prometheus.NewDesc("wasmcluster_plugin_version_workers", "Worker processes running each plugin version.", []string{"version"}, nil)
	descWorkers  = prometheus.NewDesc("wasmcluster_workers", "Worker processes by state.", []string{"state"}, nil)
	descDesired  = prometheus.NewDesc("wasmcluster_workers_desired", "Configured number of workers.", nil, nil)
	descBacklog  = prometheus.NewDesc("wasmcluster_listen_backlog", "Connections waiting in the listening socket's accept queue (TCP only).", nil, nil)
)

func (c collector) Collect(ch chan<- prometheus.Metric) {
	var s metricsSnapshot
	if !c.pr.do(func() { s = c.pr.metricsSnapshot() }) {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	counter := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, lv...)
	}
	for _, sm := range s.slots {
		w := strconv.Itoa(sm.id)
		for code, n := range sm.total.Codes {
			counter(descRequests, float64(n), w, strconv.Itoa(code), strconv.Itoa(code/100)+"xx")
		}
		cum := map[float64]uint64{}
		var total uint64
		for i, b := range control.LatencyBounds {
			if i < len(sm.total.Buckets) {
				total += sm.total.Buckets[i]
			}
			cum[b] = total
		}
		if n := len(sm.total.Buckets); n > len(control.LatencyBounds) {
			total += sm.total.Buckets[n-1]
		}
		ch <- prometheus.MustNewConstHistogram(descLatency, total, sm.total.SumSeconds, cum, w)
		gauge(descInFlight, float64(sm.inFlight), w)
		counter(descTraps, float64(sm.total.Traps), w)
		counter(descTimeouts, float64(sm.total.Timeouts), w)
		counter(descWaits, float64(sm.total.PoolWaits), w)
		gauge(descPool, float64(sm.pool[0]), w, "size")
		gauge(descPool, float64(sm.pool[1]), w, "live")
		gauge(descPool, float64(sm.pool[2]), w, "idle")
		gauge(descRSS, float64(sm.rss), w)
	}
	for r, n := range s.restarts {
		counter(descRestarts, float64(n), r)
	}
	for o, n := range s.rolls {
		counter(descRolls, float64(n), o)
	}
	cum := map[float64]uint64{}
	var total uint64
	for i, b := range rollBounds {
		total += s.rollBkts[i]
		cum[b] = total
	}
	total += s.rollBkts[len(rollBounds)]
	ch <- prometheus.MustNewConstHistogram(descRollDur, total, s.rollSum, cum)
	if s.version != "" {
		gauge(descInfo, 1, s.version)
	}
	for v, n := range s.versions {
		gauge(descVersions, float64(n), v)
	}
	for _, st := range []procState{stateStarting, stateReady, stateDraining, stateStopping} {
		gauge(descWorkers, float64(s.states[string(st)]), string(st))
	}
	gauge(descDesired, float64(s.desired))
	if q, ok := backlog(s.lnInode); ok {
		gauge(descBacklog, float64(q))
	}
}

// opsStatus adds each process's latency buckets to a status snapshot
// (supervisor goroutine).
func (pr *Primary) opsStatus(st *control.Status) {
	for p, m := range pr.ops.last {
		for i := range st.Workers {
			if st.Workers[i].PID == p.pid && m != nil {
				st.Workers[i].LatencyBuckets = slices.Clone(m.Buckets)
			}
		}
	}
}
