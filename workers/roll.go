package workers

import (
	"context"
	"fmt"
	"time"
)

// Worker is a handle on one worker process for the roll primitives. Only
// its immutable facts are readable; state lives in the supervisor.
type Worker struct{ p *proc }

// ID is the slot the worker serves. PID is its process id.
func (w *Worker) ID() int    { return w.p.id }
func (w *Worker) PID() int   { return w.p.pid }
func (w *Worker) Spec() Spec { return w.p.spec }
func (w *Worker) String() string {
	return fmt.Sprintf("worker %d (pid %d, %s)", w.p.id, w.p.pid, w.p.spec.Version)
}

// StartWorker starts an extra worker for slot id on spec (a surge: it does
// not replace the slot's current worker) and waits until it is ready. On
// error or when ctx ends before ready, the worker is killed.
func (pr *Primary) StartWorker(ctx context.Context, id int, spec Spec) (*Worker, error) {
	ready := make(chan error, 1)
	var p *proc
	var err error
	if !pr.do(func() {
		if pr.stopping {
			err = ErrStopping
			return
		}
		if p, err = pr.spawn(id, spec); err != nil {
			return
		}
		pr.procs[p] = struct{}{}
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
		return &Worker{p: p}, nil
	case <-ctx.Done():
		pr.do(func() { pr.kill(p, "start canceled") })
		return nil, fmt.Errorf("start worker %d: %w", id, ctx.Err())
	}
}

// Promote makes w the current worker of its slot, so it is respawned on
// the slot's behalf from now on, and returns the worker it replaced (nil if
// none). The caller drains the old one. If the slot is gone (scaled down),
// w itself is drained.
func (pr *Primary) Promote(w *Worker) *Worker {
	var old *Worker
	pr.do(func() {
		for _, s := range pr.slots {
			if s.id != w.p.id {
				continue
			}
			if s.cur != nil && s.cur != w.p {
				old = &Worker{p: s.cur}
			}
			s.cur, s.spec = w.p, w.p.spec
			return
		}
		pr.drainProc(w.p, "slot removed")
	})
	return old
}

// Drain drains w (a starting worker is killed) and waits for its exit or
// ctx's end.
func (pr *Primary) Drain(ctx context.Context, w *Worker) error {
	pr.do(func() { pr.drainProc(w.p, "replaced") })
	select {
	case <-w.p.exited:
		return nil
	case <-pr.quit:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain %s: %w", w, ctx.Err())
	}
}

// Roll replaces every slot's worker with one on spec, surge-then-drain,
// one slot at a time: the replacement must be ready before the old worker
// drains, so capacity never drops. A replacement that fails aborts the
// roll; the workers not yet replaced keep serving their version.
func (pr *Primary) Roll(ctx context.Context, spec Spec) error {
	start := time.Now()
	var ids []int
	pr.do(func() {
		for _, s := range pr.slots {
			ids = append(ids, s.id)
		}
	})
	for _, id := range ids {
		w, err := pr.StartWorker(ctx, id, spec)
		if err != nil {
			return fmt.Errorf("roll to %q: %w", spec.Version, err)
		}
		if old := pr.Promote(w); old != nil {
			if err := pr.Drain(ctx, old); err != nil {
				return fmt.Errorf("roll to %q: %w", spec.Version, err)
			}
		}
	}
	pr.do(func() { pr.spec = spec })
	pr.log.Info("roll finished", keyVersion, spec.Version, keyCount, len(ids),
		"duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// RequestRoll queues a roll to spec; a newer request replaces a queued one.
// Rolls run one at a time.
func (pr *Primary) RequestRoll(spec Spec) {
	for {
		select {
		case pr.rolls <- spec:
			return
		default:
		}
		select {
		case <-pr.rolls: // drop the stale pending target
		default:
		}
	}
}

// roller runs queued rolls one at a time until the supervisor returns.
func (pr *Primary) roller() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-pr.quit
		cancel()
	}()
	for {
		select {
		case <-pr.quit:
			return
		case spec := <-pr.rolls:
			pr.log.Info("roll started", keyVersion, spec.Version)
			err := pr.Roll(ctx, spec)
			outcome := "ok"
			if err != nil {
				outcome = err.Error()
				pr.log.Error("roll aborted; old workers keep serving", keyErr, err)
			}
			pr.do(func() { pr.lastRoll = outcome })
		}
	}
}
