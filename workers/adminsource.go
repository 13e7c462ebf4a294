package workers

import (
	"fmt"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/admin"
)

// adminSource is the primary as the admin listener sees it: every answer
// is computed on the supervisor goroutine.
type adminSource struct{ pr *Primary }

func (a adminSource) Snapshot() (admin.Snapshot, bool) {
	var s admin.Snapshot
	ok := a.pr.do(func() { s = a.pr.metricsSnapshot() })
	s.KV = kvStatus(&a.pr.opts, s.Slots) // kv.go
	return s, ok
}

func (a adminSource) Responsive(d time.Duration) bool { return a.pr.responsive(d) }

func (a adminSource) Readiness() admin.Readiness {
	var rd admin.Readiness
	if !a.pr.do(func() { rd = a.pr.readiness(time.Now()) }) {
		rd = admin.Readiness{Reason: "stopped"}
	}
	kvReadiness(&a.pr.opts, &rd) // kv.go
	return rd
}

// readiness: at least half of the desired workers (and at least one) are
// ready on the current version (or on the target of the roll under way),
// the primary is not stopping, and no roll has run longer than a roll of
// every slot could take with each step at its timeouts. Half, not all: a
// worker being recycled or respawned must not take the instance out of a
// load balancer.
func (pr *Primary) readiness(now time.Time) admin.Readiness {
	o := &pr.ops
	rd := admin.Readiness{Desired: pr.desired, Version: pr.spec.Version}
	for _, s := range pr.slots {
		p := s.cur
		if p != nil && p.state == stateReady && (p.spec.Version == pr.spec.Version || o.rolling && p.spec.Version == o.target) {
			rd.Workers++
		}
	}
	stuckAfter := time.Duration(max(pr.desired, 1)) * (pr.opts.StartTimeout + pr.opts.DrainTimeout + 10*time.Second)
	switch {
	case pr.stopping:
		rd.Reason = "stopping"
	case rd.Workers == 0 || 2*rd.Workers < pr.desired:
		rd.Reason = fmt.Sprintf("%d of %d workers ready on the current version", rd.Workers, pr.desired)
	case o.rolling && now.Sub(o.rollFrom) > stuckAfter:
		rd.Reason = fmt.Sprintf("roll to %s stuck for %s", digest.ShortOrDash(o.target), now.Sub(o.rollFrom).Round(time.Second))
	default:
		rd.Ready = true
	}
	return rd
}
