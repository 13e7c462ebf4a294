package workers

import (
	"github.com/wasmcluster/wasmcluster/workers/admin"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// The shared store's place in operations: status and /metrics show its
// backend, health and the plugins' calls to it; /readyz answers 503 while
// it is down, so a load balancer sends traffic to an instance whose
// plugins can reach their state. Requests are still served meanwhile:
// a plugin sees the outage as an error it handles (e.g. fails open).

// kvStatus is PrimaryOptions.KVStatus with the op counters of slots added;
// nil without a store.
func kvStatus(opts *PrimaryOptions, slots []admin.Slot) *control.KVStatus {
	if opts.KVStatus == nil {
		return nil
	}
	st := opts.KVStatus()
	if st == nil {
		return nil
	}
	c := *st
	for op, s := range admin.SumKV(slots) {
		if c.Ops == nil {
			c.Ops = map[string]map[string]uint64{}
		}
		c.Ops[op] = s.Results
	}
	return &c
}

// kvReadiness makes rd not ready while the store is down.
func kvReadiness(opts *PrimaryOptions, rd *admin.Readiness) {
	if !rd.Ready || opts.KVStatus == nil {
		return
	}
	if st := opts.KVStatus(); st != nil && !st.Healthy {
		rd.Ready = false
		rd.Reason = "kv store (" + st.Backend + ") unavailable: " + st.Error
	}
}
