package workers

import (
	"context"
	"fmt"
	"time"
)

// The two primitives rolls and recycling are built from: start a surge
// worker and wait until it is ready, then make it its slot's worker.

// startWorker starts an extra worker for slot id on spec (a surge: it does
// not replace the slot's current worker) and waits until it is ready. On
// error or when ctx ends before ready, the worker is stopped and
// startWorker returns once it has exited, so a canceled start never leaves
// an extra process behind.
func (pr *Primary) startWorker(ctx context.Context, id int, spec Spec) (*proc, error) {
	ready := make(chan error, 1)
	var p *proc
	var err error
	if !pr.do(func() {
		if pr.stopping {
			err = ErrStopping
			return
		}
		if p = pr.claimStaged(id, spec); p == nil {
			if p, err = pr.spawn(id, spec, pr.gated); err != nil {
				return
			}
			pr.procs[p] = struct{}{}
		}
		p.waiters = append(p.waiters, ready)
	}) {
		return nil, ErrStopping
	}
	if err != nil {
		return nil, err
	}
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
		return p, nil
	case <-ctx.Done():
		pr.cancelStart(p, ready)
		return nil, fmt.Errorf("start worker %d: %w", id, ctx.Err())
	}
}

// cancelGrace is how long a canceled start may still become ready (and
// then be drained) before it is killed.
const cancelGrace = 3 * time.Second

// cancelStart stops a start nobody wants any more and waits for its exit.
// A worker serves from its first accept, just before its ready message:
// killing it then would drop those connections. A start that is nearly
// done may finish and is drained; one still loading (it has accepted
// nothing) is killed.
func (pr *Primary) cancelStart(p *proc, ready <-chan error) {
	select {
	case err := <-ready:
		if err == nil {
			pr.do(func() { pr.drainProc(p, "start canceled") })
		}
	case <-time.After(cancelGrace):
		pr.do(func() { pr.kill(p, "start canceled") })
	case <-pr.quit:
	}
	select {
	case <-p.exited:
	case <-pr.quit:
	}
}

// promote makes p the current worker of its slot, so it is respawned on
// the slot's behalf from now on, and returns the worker it replaced (nil if
// none). The caller drains the old one. If the slot is gone (scaled down),
// p itself is drained.
func (pr *Primary) promote(p *proc) *proc {
	var old *proc
	pr.do(func() {
		for _, s := range pr.slots {
			if s.id != p.id {
				continue
			}
			if s.cur != nil && s.cur != p {
				old = s.cur
			}
			s.cur, s.spec = p, p.spec
			return
		}
		pr.drainProc(p, "slot removed")
	})
	return old
}

// String names a worker in errors and logs.
func (p *proc) String() string {
	return fmt.Sprintf("worker %d (pid %d, %s)", p.id, p.pid, p.spec.Version)
}
