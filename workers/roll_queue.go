package workers

import (
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// rollQueue holds the pending roll request (latest wins), the roll state
// shown in status, and the crash-loop watch of a freshly rolled version.
// The roller goroutine is its only writer besides submit.
type rollQueue struct {
	wake chan struct{} // a request is pending (hint; take() decides)

	mu      sync.Mutex
	newer   chan struct{} // closed and replaced on every submit
	pending *RollRequest
	waiters []chan control.RollStatus
	current *control.RollStatus // roll in progress
	last    *control.RollStatus // last finished roll
	stopped error

	good       Spec // last version that ran well (revert target)
	probe      Spec // version on probation after its roll
	probing    bool
	probeUntil time.Time
}

func newRollQueue(initial Spec) *rollQueue {
	return &rollQueue{wake: make(chan struct{}, 1), newer: make(chan struct{}), good: initial}
}

func (q *rollQueue) submit(req RollRequest, ch chan control.RollStatus) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped != nil {
		ch <- control.RollStatus{Target: req.Spec.Version, Trigger: req.Trigger, Outcome: control.OutcomeAborted, Error: q.stopped.Error()}
		return
	}
	q.pending = &req
	q.waiters = append(q.waiters, ch)
	close(q.newer)
	q.newer = make(chan struct{})
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *rollQueue) take() (RollRequest, []chan control.RollStatus, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending == nil {
		return RollRequest{}, nil, false
	}
	req, w := *q.pending, q.waiters
	q.pending, q.waiters = nil, nil
	return req, w, true
}

func (q *rollQueue) hasPending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending != nil
}

// cancelOnNewer calls cancel when a request for another version than
// target is pending, until stop is closed.
func (q *rollQueue) cancelOnNewer(target string, cancel func(), stop <-chan struct{}) {
	for {
		q.mu.Lock()
		ch, p := q.newer, q.pending
		q.mu.Unlock()
		if p != nil && p.Spec.Version != target {
			cancel()
			return
		}
		select {
		case <-ch:
		case <-stop:
			return
		}
	}
}

// fail answers every waiter: the primary stopped.
func (q *rollQueue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = err
	if q.pending != nil {
		deliver(q.waiters, control.RollStatus{Target: q.pending.Spec.Version, Trigger: q.pending.Trigger, Outcome: control.OutcomeAborted, Error: err.Error()})
	}
	q.pending, q.waiters = nil, nil
}

// busy reports whether a roll is under way or waiting.
func (q *rollQueue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.current != nil || q.pending != nil
}

func (q *rollQueue) setCurrent(st *control.RollStatus) {
	q.mu.Lock()
	c := *st
	q.current = &c
	q.mu.Unlock()
}

func (q *rollQueue) record(st control.RollStatus) {
	q.mu.Lock()
	q.last, q.current = &st, nil
	q.mu.Unlock()
}

// beginProbationCheck runs when a roll starts: a version on probation that
// has not crash-looped so far becomes the last good one.
func (q *rollQueue) beginProbationCheck() {
	q.mu.Lock()
	if q.probing {
		q.good, q.probing = q.probe, false
	}
	q.mu.Unlock()
}

// rolled records a successful roll to target and puts it on probation for
// d. It returns the last good version, which must be kept (revert target).
func (q *rollQueue) rolled(st control.RollStatus, target Spec, d time.Duration) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last, q.current = &st, nil
	if target.Version != q.good.Version {
		q.probe, q.probing, q.probeUntil = target, true, time.Now().Add(d)
	}
	return q.good.Version
}

// probation returns the version under watch and the one to revert to; a
// version that stayed up long enough becomes the good one.
func (q *rollQueue) probation() (string, Spec, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.probing {
		return "", Spec{}, false
	}
	if time.Now().After(q.probeUntil) {
		q.good, q.probing = q.probe, false
		return "", Spec{}, false
	}
	return q.probe.Version, q.good, true
}

func (q *rollQueue) endProbation() {
	q.mu.Lock()
	q.probing = false
	q.mu.Unlock()
}

// snapshot is the roll part of Status: the roll in progress (else the last
// one), the target of a roll in progress, and the last good version.
func (q *rollQueue) snapshot() (roll *control.RollStatus, target, good string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.current != nil {
		c := *q.current
		c.DurationSeconds = time.Since(c.StartedAt).Seconds()
		roll, target = &c, c.Target
	} else if q.last != nil {
		l := *q.last
		roll = &l
	}
	return roll, target, q.good.Version
}
