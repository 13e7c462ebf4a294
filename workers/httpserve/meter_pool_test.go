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
