package httpserve

import (
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// statsPlugin reports fixed host counters.
type statsPlugin struct {
	testPlugin
	st host.Stats
}

func (p *statsPlugin) Stats() host.Stats { return p.st }

// The meter carries the pool's bound and its 503s next to its waits, and
// sums the counters across snapshots.
func TestMetricsCarryPoolRejections(t *testing.T) {
	p := &statsPlugin{st: host.Stats{Waits: 5, Rejected: 2, PoolSize: 4, PoolMax: 16, Live: 7, Idle: 1}}
	s := New(Options{}, p, testLogger(), nil)
	m := s.Metrics()
	if m.PoolWaits != 5 || m.PoolRejected != 2 || m.PoolMax != 16 || m.PoolSize != 4 || m.PoolLive != 7 {
		t.Fatalf("snapshot %+v", m)
	}
	var sum Metrics
	sum.Add(m)
	sum.Add(m)
	if sum.PoolWaits != 10 || sum.PoolRejected != 4 {
		t.Errorf("summed waits %d, rejected %d; want 10, 4", sum.PoolWaits, sum.PoolRejected)
	}
}

// A swap (in-process reload) does not lose the replaced plugin's counters:
// /metrics reports counters, which must not go down, while the pool gauges
// are the serving plugin's.
func TestMetricsKeepCountersAcrossSwap(t *testing.T) {
	old := &statsPlugin{st: host.Stats{Traps: 3, Timeouts: 2, Waits: 5, Rejected: 1, PoolMax: 16,
		Upstream: host.UpstreamStats{Timeout: 4}}}
	s := New(Options{}, old, testLogger(), nil)
	before := s.Metrics()
	next := &statsPlugin{st: host.Stats{Traps: 1, PoolMax: 8}}
	if _, err := s.Swap(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	m := s.Metrics()
	if m.Traps != 4 || m.Timeouts != 2 || m.PoolWaits != 5 || m.PoolRejected != 1 || m.Upstream["timeout"] != 4 {
		t.Errorf("after the swap: traps %d timeouts %d waits %d rejected %d upstream %v; before %+v",
			m.Traps, m.Timeouts, m.PoolWaits, m.PoolRejected, m.Upstream, before)
	}
	if m.PoolMax != 8 {
		t.Errorf("pool max %d, want the serving plugin's 8", m.PoolMax)
	}
}
