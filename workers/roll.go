package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

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
func (pr *Primary) Submit(req RollRequest) <-chan control.RollStatus {
	ch := make(chan control.RollStatus, 1)
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

// rollChain rolls toward req.Spec, retargeting when newer requests arrive,
// and reports the outcome to every waiter of the requests it served.
func (pr *Primary) rollChain(ctx context.Context, req RollRequest, waiters []chan control.RollStatus) {
	var from Spec
	if !pr.do(func() { from = pr.spec }) {
		deliver(waiters, control.RollStatus{Target: req.Spec.Version, Outcome: control.OutcomeAborted, Error: ErrStopping.Error()})
		return
	}
	pr.rq.beginProbationCheck()
	rollEnd := pr.rollBegin(req.Spec) // hooks.go: sd_notify, metrics, readiness
	st, target := pr.rollTo(ctx, req, from, &waiters)
	if st.Outcome == control.OutcomeAborted && ctx.Err() == nil && !pr.rq.hasPending() {
		// Put the slots already replaced back on the version that served.
		pr.log.Warn("roll aborted; reverting replaced workers", keyVersion, st.Target, keyErr, st.Error, "to", from.Version)
		rev, _ := pr.rollTo(ctx, RollRequest{Spec: from, Trigger: "revert"}, from, nil)
		if rev.Outcome != control.OutcomeOK {
			pr.log.Error("revert after an aborted roll failed", keyErr, rev.Error)
		}
	}
	rollEnd(fmt.Sprint(st.Outcome))
	pr.finishRoll(st, target, waiters)
}

// rollTo is one roll and its retargets; waiters (nil for internal rolls)
// collects the waiters of requests taken while it runs. It returns the
// roll's outcome and the Spec it ended on (a retarget changes it).
func (pr *Primary) rollTo(ctx context.Context, req RollRequest, from Spec, waiters *[]chan control.RollStatus) (control.RollStatus, Spec) {
	r := &rollRun{
		st: control.RollStatus{Target: req.Spec.Version, From: from.Version, Trigger: req.Trigger,
			Outcome: control.OutcomeRolling, StartedAt: time.Now()},
		target: req.Spec, restart: req.Restart, done: map[int]bool{}, waiters: waiters,
	}
	if waiters != nil {
		pr.rq.setCurrent(&r.st)
	}
	pr.log.Info("roll started", keyVersion, req.Spec.Version, "from", from.Version, "trigger", req.Trigger)
	for r.st.Outcome == control.OutcomeRolling {
		pr.takeNewer(r)
		id, ok, stopping := pr.nextSlot(r.target, r.restart, r.done)
		if stopping {
			r.abort(ErrStopping)
			break
		}
		if !ok {
			break
		}
		pr.replaceSlot(ctx, r, id)
	}
	pr.awaitReplaced(ctx, r)
	pr.endRollTo(r)
	return r.st, r.target
}

// rollRun is the state of one rollTo, owned by the roller goroutine.
type rollRun struct {
	st       control.RollStatus
	target   Spec
	restart  bool
	done     map[int]bool // slots rolled toward target
	replaced []*proc      // draining; the roll ends when they exited
	waiters  *[]chan control.RollStatus
}

func (r *rollRun) abort(err error) {
	r.st.Outcome, r.st.Error = control.OutcomeAborted, fmt.Sprintf("roll to %s aborted: %v", digest.Short(r.target.Version), err)
}

// takeNewer takes a request that arrived mid-roll: the same version only
// widens a restart, another version retargets the roll.
func (pr *Primary) takeNewer(r *rollRun) {
	if r.waiters == nil {
		return
	}
	nreq, nw, ok := pr.rq.take()
	if !ok {
		return
	}
	*r.waiters = append(*r.waiters, nw...)
	if nreq.Spec.Version == r.target.Version {
		// Same version (a reload of what the watcher is rolling out):
		// workers started by this roll are fresh already.
		r.restart = r.restart || nreq.Restart
		return
	}
	pr.log.Info("roll retargeted", keyVersion, nreq.Spec.Version, "previous", r.target.Version, "trigger", nreq.Trigger)
	r.target, r.restart, r.done = nreq.Spec, nreq.Restart, map[int]bool{}
	r.st.Target, r.st.Trigger, r.st.Retargets = r.target.Version, nreq.Trigger, r.st.Retargets+1
	pr.rq.setCurrent(&r.st)
}

// replaceSlot starts slot id's replacement on the target and, once it is
// ready, drains the worker it replaces. A start made stale by a newer
// request is dropped, and the slot picked again toward the newer version.
func (pr *Primary) replaceSlot(ctx context.Context, r *rollRun, id int) {
	r.done[id] = true
	sctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	if r.waiters != nil {
		go pr.rq.cancelOnNewer(r.target.Version, cancel, stop)
	}
	p, err := pr.startWorker(sctx, id, r.target)
	close(stop)
	superseded := err != nil && sctx.Err() != nil && ctx.Err() == nil
	cancel()
	if superseded {
		delete(r.done, id)
		return // takeNewer takes the newer request
	}
	if err != nil {
		r.abort(err)
		return
	}
	r.st.Replaced++
	if old := pr.promote(p); old != nil {
		// The old worker stops accepting at once; the next replacement
		// starts while it finishes its requests, so a drain is not on the
		// roll's critical path. Still one surge worker at a time: a
		// draining worker takes no new connections.
		pr.do(func() { pr.drainProc(old, "replaced") })
		r.replaced = append(r.replaced, old)
	}
}

// awaitReplaced waits until every replaced worker exited: the roll ends
// then.
func (pr *Primary) awaitReplaced(ctx context.Context, r *rollRun) {
	for _, old := range r.replaced {
		select {
		case <-old.exited:
		case <-pr.quit:
		case <-ctx.Done():
			if r.st.Outcome == control.OutcomeRolling {
				r.abort(fmt.Errorf("drain %s: %w", old, ctx.Err()))
			}
		}
	}
}

// endRollTo times the roll and, when it succeeded, makes its target the
// version of new slots.
func (pr *Primary) endRollTo(r *rollRun) {
	r.st.Duration = time.Since(r.st.StartedAt)
	r.st.DurationSeconds = r.st.Duration.Seconds()
	if r.st.Outcome != control.OutcomeRolling {
		return
	}
	r.st.Outcome = control.OutcomeOK
	pr.do(func() { pr.spec = r.target })
	pr.log.Info("roll finished", keyVersion, r.target.Version, "replaced", r.st.Replaced,
		"duration", r.st.Duration.Round(time.Millisecond).String(), "trigger", r.st.Trigger)
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

// finishRoll records st, starts the crash-loop watch of a new version
// (target), reports to waiters and runs the AfterRoll hook.
func (pr *Primary) finishRoll(st control.RollStatus, target Spec, waiters []chan control.RollStatus) {
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
	case control.OutcomeOK:
		good = pr.rq.rolled(st, target, pr.opts.Backoff.StableAfter)
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
	st, _ := pr.rollTo(ctx, RollRequest{Spec: good, Restart: false, Trigger: "revert"}, good, nil)
	if st.Outcome == control.OutcomeOK {
		st.Outcome = control.OutcomeReverted
		st.From = ver
		st.Error = fmt.Sprintf("version %s crash-looped after its roll (%s); reverted to %s", digest.Short(ver), looping, digest.Short(good.Version))
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

func deliver(waiters []chan control.RollStatus, st control.RollStatus) {
	for _, w := range waiters {
		select {
		case w <- st:
		default:
		}
	}
}
