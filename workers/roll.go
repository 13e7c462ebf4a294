package workers

import (
	"context"
	"errors"
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
// error or when ctx ends before ready, the worker is killed and StartWorker
// returns once it has exited, so a canceled start never leaves an extra
// process behind.
func (pr *Primary) StartWorker(ctx context.Context, id int, spec Spec) (*Worker, error) {
	ready := make(chan error, 1)
	var p *proc
	var err error
	if !pr.do(func() {
		if pr.stopping {
			err = ErrStopping
			return
		}
		if p = pr.claimStaged(id, spec); p != nil {
			p.waiters = append(p.waiters, ready)
			return
		}
		if p, err = pr.spawn(id, spec, pr.gated); err != nil {
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
		// A worker serves from its first accept, just before its ready
		// message: killing it then would drop those connections. Let a
		// start that is nearly done finish and drain it; kill one that is
		// still loading (it has not accepted anything).
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
		return nil, fmt.Errorf("start worker %d: %w", id, ctx.Err())
	}
}

// cancelGrace is how long a canceled start may still become ready (and
// then be drained) before it is killed.
const cancelGrace = 3 * time.Second

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

// Roll replaces every slot's worker with one on spec, surge-then-drain, one
// slot at a time, and returns when it is done: the replacement must be
// ready before the old worker drains, so capacity never drops, and the next
// replacement starts once the old worker stopped accepting (it drains
// meanwhile), so there is never more than one extra worker accepting or
// starting. The roll ends when every replaced worker has exited. A replacement that fails aborts the roll and
// the slots already replaced go back to the version before it. Rolls run one
// at a time (Roll queues behind a roll in progress; a newer request
// retargets it, see Submit).
func (pr *Primary) Roll(ctx context.Context, spec Spec) error {
	ch := pr.Submit(RollRequest{Spec: spec, Restart: true, Trigger: "api"})
	select {
	case st := <-ch:
		return st.Err()
	case <-pr.quit:
		return ErrStopping
	case <-ctx.Done():
		return fmt.Errorf("roll to %q: %w", spec.Version, ctx.Err())
	}
}

// RequestRoll queues a roll to spec that replaces every worker (a restart
// when spec is the version already running); a newer request retargets a
// roll in progress. It does not wait.
func (pr *Primary) RequestRoll(spec Spec) {
	pr.Submit(RollRequest{Spec: spec, Restart: true, Trigger: "request"})
}

// RollRequest asks for the workers to run Spec.
type RollRequest struct {
	Spec Spec

	// Restart replaces workers already running Spec.Version too (SIGHUP on
	// an unchanged plugin restarts the workers). Without it, only workers
	// on another version are replaced.
	Restart bool

	// Trigger says who asked, for logs and status: "watch", "signal",
	// "control", "revert", ...
	Trigger string
}

// Submit queues req and returns a channel that receives the outcome of
// the roll that carries it out. A request arriving while another is queued
// replaces it; one arriving during a roll retargets that roll: a worker
// still starting on the stale version is stopped, and the roll continues
// toward the newest version from where it is. Superseded requests receive
// the outcome of the roll that replaced them.
func (pr *Primary) Submit(req RollRequest) <-chan RollStatus {
	ch := make(chan RollStatus, 1)
	pr.rq.submit(req, ch)
	return ch
}

// roller runs queued rolls one at a time until the supervisor returns, and
// watches each new version for a crash loop for a while after its roll.
func (pr *Primary) roller() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-pr.quit
		cancel()
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-pr.quit:
			pr.rq.fail(ErrStopping)
			return
		case <-pr.rq.wake:
		case <-tick.C:
		}
		if req, waiters, ok := pr.rq.take(); ok {
			pr.rollChain(ctx, req, waiters)
		}
		pr.checkProbation(ctx)
	}
}

// errSuperseded cancels a worker start whose version is no longer wanted.
var errSuperseded = errors.New("superseded by a newer version")

// rollChain rolls toward req.Spec, retargeting when newer requests arrive,
// and reports the outcome to every waiter of the requests it served.
func (pr *Primary) rollChain(ctx context.Context, req RollRequest, waiters []chan RollStatus) {
	var from Spec
	if !pr.do(func() { from = pr.spec }) {
		deliver(waiters, RollStatus{Target: req.Spec.Version, Outcome: OutcomeAborted, Error: ErrStopping.Error()})
		return
	}
	pr.rq.beginProbationCheck()
	rollEnd := pr.rollBegin(req.Spec) // hooks.go: sd_notify, metrics, readiness
	st := pr.rollTo(ctx, req, from, &waiters)
	if st.Outcome == OutcomeAborted && ctx.Err() == nil && !pr.rq.hasPending() {
		// Put the slots already replaced back on the version that served.
		pr.log.Warn("roll aborted; reverting replaced workers", keyVersion, st.Target, keyErr, st.Error, "to", from.Version)
		rev := pr.rollTo(ctx, RollRequest{Spec: from, Trigger: "revert"}, from, nil)
		if rev.Outcome != OutcomeOK {
			pr.log.Error("revert after an aborted roll failed", keyErr, rev.Error)
		}
	}
	rollEnd(fmt.Sprint(st.Outcome))
	pr.finishRoll(st, waiters)
}

// rollTo is one roll and its retargets; waiters (nil for internal rolls)
// collects the waiters of requests taken while it runs.
func (pr *Primary) rollTo(ctx context.Context, req RollRequest, from Spec, waiters *[]chan RollStatus) RollStatus {
	st := RollStatus{Target: req.Spec.Version, From: from.Version, Trigger: req.Trigger, Outcome: OutcomeRolling, StartedAt: time.Now()}
	if waiters != nil {
		pr.rq.setCurrent(&st)
	}
	pr.log.Info("roll started", keyVersion, req.Spec.Version, "from", from.Version, "trigger", req.Trigger)
	target, restart := req.Spec, req.Restart
	done := map[int]bool{}
	var replaced []*Worker // draining; the roll ends when they exited
	for {
		if waiters != nil {
			if nreq, nw, ok := pr.rq.take(); ok {
				*waiters = append(*waiters, nw...)
				if nreq.Spec.Version == target.Version {
					// Same version (a reload of what the watcher is rolling
					// out): workers started by this roll are fresh already.
					restart = restart || nreq.Restart
				} else {
					pr.log.Info("roll retargeted", keyVersion, nreq.Spec.Version, "previous", target.Version, "trigger", nreq.Trigger)
					target, restart, done = nreq.Spec, nreq.Restart, map[int]bool{}
					st.Target, st.Trigger, st.Retargets = target.Version, nreq.Trigger, st.Retargets+1
					pr.rq.setCurrent(&st)
				}
			}
		}
		id, ok, stopping := pr.nextSlot(target, restart, done)
		if stopping {
			st.Outcome, st.Error = OutcomeAborted, fmt.Sprintf("roll to %s aborted: %v", short(target.Version), ErrStopping)
			break
		}
		if !ok {
			break
		}
		done[id] = true
		sctx, cancel := context.WithCancel(ctx)
		stop := make(chan struct{})
		if waiters != nil {
			go pr.rq.cancelOnNewer(target.Version, cancel, stop)
		}
		w, err := pr.StartWorker(sctx, id, target)
		close(stop)
		superseded := err != nil && sctx.Err() != nil && ctx.Err() == nil
		cancel()
		if superseded {
			delete(done, id)
			continue // take the newer request at the top of the loop
		}
		if err != nil {
			st.Outcome, st.Error = OutcomeAborted, fmt.Sprintf("roll to %s aborted: %v", short(target.Version), err)
			break
		}
		st.Replaced++
		if old := pr.Promote(w); old != nil {
			// The old worker stops accepting at once; the next replacement
			// starts while it finishes its requests, so a drain is not on
			// the roll's critical path. Still one surge worker at a time:
			// a draining worker takes no new connections.
			pr.do(func() { pr.drainProc(old.p, "replaced") })
			replaced = append(replaced, old)
		}
	}
	for _, old := range replaced {
		select {
		case <-old.p.exited:
		case <-pr.quit:
		case <-ctx.Done():
			if st.Outcome == OutcomeRolling {
				st.Outcome, st.Error = OutcomeAborted, fmt.Sprintf("roll to %s aborted: drain %s: %v", short(target.Version), old, ctx.Err())
			}
		}
	}
	st.Duration = time.Since(st.StartedAt)
	st.DurationSeconds = st.Duration.Seconds()
	if st.Outcome == OutcomeRolling {
		st.Outcome = OutcomeOK
		st.spec = target
		pr.do(func() { pr.spec = target })
		pr.log.Info("roll finished", keyVersion, target.Version, "replaced", st.Replaced,
			"duration", st.Duration.Round(time.Millisecond).String(), "trigger", st.Trigger)
	}
	return st
}

// nextSlot picks the next slot to roll to target: one not done in this
// roll whose worker runs another version (or any, when restarting). A slot
// with no process (waiting to respawn) is switched to target in place: its
// respawn starts the new version.
func (pr *Primary) nextSlot(target Spec, restart bool, done map[int]bool) (id int, found, stopping bool) {
	stopping = true
	pr.do(func() {
		if stopping = pr.stopping; stopping {
			return
		}
		for _, s := range pr.slots {
			if done[s.id] {
				continue
			}
			if s.cur == nil {
				s.spec = target
				done[s.id] = true
				continue
			}
			if restart || s.cur.spec.Version != target.Version || s.cur.state != stateReady && s.cur.state != stateStarting {
				id, found = s.id, true
				return
			}
		}
	})
	return id, found, stopping
}

// finishRoll records st, starts the crash-loop watch of a new version,
// reports to waiters and runs the AfterRoll hook.
func (pr *Primary) finishRoll(st RollStatus, waiters []chan RollStatus) {
	var inUse []string
	var good string
	pr.do(func() {
		pr.lastRoll = st.Outcome
		if st.Error != "" {
			pr.lastRoll = st.Error
		}
		inUse = pr.versionsInUse()
	})
	switch st.Outcome {
	case OutcomeOK:
		good = pr.rq.rolled(st, pr.opts.Backoff.StableAfter)
	default:
		pr.log.Error("roll aborted; the old version keeps serving", keyVersion, st.Target, keyErr, st.Error)
		pr.rq.record(st)
	}
	deliver(waiters, st)
	if good != "" {
		inUse = append(inUse, good)
	}
	if pr.opts.AfterRoll != nil {
		pr.opts.AfterRoll(st, inUse)
	}
}

// versionsInUse lists the versions of every slot and process. Runs on the
// supervisor goroutine.
func (pr *Primary) versionsInUse() []string {
	seen := map[string]bool{pr.spec.Version: true}
	for _, s := range pr.slots {
		seen[s.spec.Version] = true
	}
	for p := range pr.procs {
		seen[p.spec.Version] = true
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// checkProbation reverts a freshly rolled version whose workers crash-loop
// to the last version that ran well.
func (pr *Primary) checkProbation(ctx context.Context) {
	ver, good, ok := pr.rq.probation()
	if !ok {
		return
	}
	var looping string
	pr.do(func() {
		for _, s := range pr.slots {
			if s.spec.Version == ver && s.crashLoop {
				looping = fmt.Sprintf("worker %d: %s", s.id, s.lastExit)
			}
		}
	})
	if looping == "" {
		return
	}
	pr.rq.endProbation()
	pr.log.Error("new version crash-loops after its roll; reverting to the last good version", keyVersion, ver, "to", good.Version, keyReason, looping)
	rollEnd := pr.rollBegin(good) // hooks.go
	st := pr.rollTo(ctx, RollRequest{Spec: good, Restart: false, Trigger: "revert"}, good, nil)
	if st.Outcome == OutcomeOK {
		st.Outcome = OutcomeReverted
		st.From = ver
		st.Error = fmt.Sprintf("version %s crash-looped after its roll (%s); reverted to %s", short(ver), looping, short(good.Version))
	}
	rollEnd(fmt.Sprint(st.Outcome))
	pr.rq.record(st)
	var inUse []string
	pr.do(func() {
		pr.lastRoll = st.Error
		inUse = pr.versionsInUse()
	})
	if pr.opts.AfterRoll != nil {
		pr.opts.AfterRoll(st, inUse)
	}
}

func deliver(waiters []chan RollStatus, st RollStatus) {
	for _, w := range waiters {
		select {
		case w <- st:
		default:
		}
	}
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
