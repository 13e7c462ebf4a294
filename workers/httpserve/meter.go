package httpserve

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// The meter counts every served request by status code and latency bucket
// with atomics (no lock on the request path). Snapshots are cumulative, so
// a lost or late one is harmless: the next one carries everything.

// Metrics is a server's cumulative counters: what a worker's heartbeat
// carries to the primary, which sums them per slot for /metrics.
type Metrics struct {
	Codes        map[int]uint64 `json:"codes,omitempty"`   // requests by status code
	Buckets      []uint64       `json:"buckets,omitempty"` // per control.LatencyBounds bucket (not cumulative), then +Inf
	SumSeconds   float64        `json:"sum,omitempty"`
	Traps        uint64         `json:"traps,omitempty"`
	Timeouts     uint64         `json:"timeouts,omitempty"`
	PoolSize     int            `json:"pool_size,omitempty"`
	PoolLive     int            `json:"pool_live,omitempty"`
	PoolIdle     int            `json:"pool_idle,omitempty"`
	PoolMax      int            `json:"pool_max,omitempty"`
	PoolWaits    uint64         `json:"pool_waits,omitempty"`    // requests that waited for a free instance
	PoolRejected uint64         `json:"pool_rejected,omitempty"` // of those, answered 503: none freed up in time
	// Upstream is host.Stats.Upstream by cause name (UpstreamStats.ByCause).
	Upstream map[string]uint64 `json:"upstream,omitempty"`
	// Outbound is host.Stats.Outbound: outbound HTTP calls keyed
	// "host result".
	Outbound map[string]uint64 `json:"outbound,omitempty"`
	// Upgraded is the upgraded connections (WebSockets) open now, a gauge
	// Add does not sum; UpgradedTotal those ever opened.
	Upgraded      int64  `json:"upgraded,omitempty"`
	UpgradedTotal uint64 `json:"upgraded_total,omitempty"`
	// KV is host.Stats.KV: the plugin's calls to the shared store by op.
	KV map[string]host.KVOpStats `json:"kv,omitempty"`
}

// Count is the number of requests in m.
func (m *Metrics) Count() uint64 {
	var n uint64
	for _, c := range m.Codes {
		n += c
	}
	return n
}

// Add folds o's counters into m (pool gauges are not summed).
func (m *Metrics) Add(o *Metrics) {
	if o == nil {
		return
	}
	if m.Codes == nil {
		m.Codes = make(map[int]uint64)
	}
	for c, n := range o.Codes {
		m.Codes[c] += n
	}
	if len(m.Buckets) < len(o.Buckets) {
		m.Buckets = append(m.Buckets, make([]uint64, len(o.Buckets)-len(m.Buckets))...)
	}
	for i, n := range o.Buckets {
		m.Buckets[i] += n
	}
	m.SumSeconds += o.SumSeconds
	m.Traps += o.Traps
	m.Timeouts += o.Timeouts
	m.PoolWaits += o.PoolWaits
	m.PoolRejected += o.PoolRejected
	m.UpgradedTotal += o.UpgradedTotal
	for c, n := range o.Upstream {
		if m.Upstream == nil {
			m.Upstream = make(map[string]uint64, len(o.Upstream))
		}
		m.Upstream[c] += n
	}
	for k, n := range o.Outbound {
		if m.Outbound == nil {
			m.Outbound = make(map[string]uint64, len(o.Outbound))
		}
		m.Outbound[k] += n
	}
	for op, st := range o.KV {
		if m.KV == nil {
			m.KV = make(map[string]host.KVOpStats, len(o.KV))
		}
		cur := m.KV[op]
		cur.Add(st)
		m.KV[op] = cur
	}
}

// meter counts requests.
type meter struct {
	codes   [600]atomic.Uint64
	buckets [16]atomic.Uint64 // len(control.LatencyBounds)+1
	sumNs   atomic.Int64

	// The counters of plugins a swap replaced, so a swap never makes a
	// counter go down: retiring ones still finish their requests (read
	// live), retired ones are frozen into a sum.
	mu       sync.Mutex
	retiring []Plugin
	retired  Metrics
}

// retire counts p's counters from now on apart from the serving plugin's.
func (m *meter) retire(p Plugin) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retiring = append(m.retiring, p)
}

// freeze freezes the counters of p, which no request uses any more.
func (m *meter) freeze(p Plugin) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.Index(m.retiring, p); i >= 0 {
		m.retiring = slices.Delete(m.retiring, i, i+1)
		m.retired.Add(pluginCounters(p))
	}
}

// pluginCounters is p's own counters (traps, timeouts, pool waits and
// rejections, upstream failures); nil if p keeps none.
func pluginCounters(p Plugin) *Metrics {
	st, ok := p.(statser)
	if !ok {
		return nil
	}
	s := st.Stats()
	return &Metrics{Traps: s.Traps, Timeouts: s.Timeouts, PoolWaits: s.Waits, PoolRejected: s.Rejected,
		Upstream: s.Upstream.ByCause(), Outbound: s.Outbound, KV: s.KV}
}

func (m *meter) observe(code int, d time.Duration) {
	if code < 100 || code >= len(m.codes) {
		code = 599 // not a valid status; never expected
	}
	m.codes[code].Add(1)
	s := d.Seconds()
	i := 0
	for i < len(control.LatencyBounds) && s > control.LatencyBounds[i] {
		i++
	}
	m.buckets[i].Add(1)
	m.sumNs.Add(int64(d))
}

// statser is implemented by *host.Plugin (and wrappers embedding it).
type statser interface{ Stats() host.Stats }

// snapshot is the meter's counts and p's own (traps, timeouts, pool).
func (m *meter) snapshot(p Plugin) *Metrics {
	out := &Metrics{Codes: make(map[int]uint64), Buckets: make([]uint64, len(control.LatencyBounds)+1)}
	for c := range m.codes {
		if n := m.codes[c].Load(); n > 0 {
			out.Codes[c] = n
		}
	}
	for i := range out.Buckets {
		out.Buckets[i] = m.buckets[i].Load()
	}
	out.SumSeconds = time.Duration(m.sumNs.Load()).Seconds()
	if st, ok := p.(statser); ok {
		s := st.Stats()
		out.PoolSize, out.PoolLive, out.PoolIdle, out.PoolMax = s.PoolSize, s.Live, s.Idle, s.PoolMax
	}
	out.Add(pluginCounters(p))
	m.mu.Lock()
	defer m.mu.Unlock()
	out.Add(&m.retired)
	for _, r := range m.retiring {
		out.Add(pluginCounters(r))
	}
	return out
}
