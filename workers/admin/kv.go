package admin

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmcluster/wasmcluster/host"
)

var (
	descKVUp  = prometheus.NewDesc("wasmcluster_kv_up", "1 when the shared key-value store answered its last health check, by backend (embedded, nats, redis).", []string{"backend"}, nil)
	descKVOps = prometheus.NewDesc("wasmcluster_kv_ops_total", "Calls plugins made to the shared key-value store, by op (get, set, delete, incr, cas, keys) and result (ok, not_found, conflict, too_large, unavailable, timeout, …).", []string{"op", "result"}, nil)
	descKVDur = prometheus.NewDesc("wasmcluster_kv_op_duration_seconds", "Latency of calls to the shared key-value store, by op.", []string{"op"}, nil)
)

// collectKV reports the store's health and the plugins' calls to it,
// summed over every worker slot.
func collectKV(ch chan<- prometheus.Metric, s Snapshot) {
	if s.KV == nil {
		return
	}
	up := 0.0
	if s.KV.Healthy {
		up = 1
	}
	gauge(ch, descKVUp, up, s.KV.Backend)
	ops := SumKV(s.Slots)
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		st := ops[op]
		for result, n := range st.Results {
			counter(ch, descKVOps, float64(n), op, result)
		}
		histogram(ch, descKVDur, Histogram{Bounds: host.KVLatencyBounds, Counts: st.Buckets, Sum: st.SumSeconds}, op)
	}
}

// SumKV is the KV op counters of every slot, summed by op.
func SumKV(slots []Slot) map[string]host.KVOpStats {
	out := map[string]host.KVOpStats{}
	for _, sl := range slots {
		for op, st := range sl.Total.KV {
			cur := out[op]
			cur.Add(st)
			out[op] = cur
		}
	}
	return out
}
