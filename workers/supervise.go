package workers

// Supervision: what the primary's loop does when a worker exits, and how it
// brings the worker set back to the desired count with backoff.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func (pr *Primary) onExit(p *proc, st *os.ProcessState, werr error) {
	delete(pr.procs, p)
	wasReady := !p.readyAt.IsZero()
	p.state = stateExited
	if pr.staged == p {
		pr.staged = nil
	}
	p.exitDesc = describeExit(st, werr)
	if p.fatalErr != "" {
		p.exitDesc += ": " + p.fatalErr
	}
	pr.onProcExit(p) // metrics.go
	for _, w := range p.waiters {
		w <- fmt.Errorf("worker %d (pid %d) exited before ready: %s", p.id, p.pid, p.exitDesc)
	}
	p.waiters = nil
	close(p.exited)
	var s *slot
	for _, x := range pr.slots {
		if x.cur == p {
			s = x
		}
	}
	attrs := []any{keyWorker, p.id, keyPID, p.pid, "exit", p.exitDesc}
	if pr.stopping && !pr.fast && p.reason == "stop" && (st == nil || !st.Success()) {
		pr.stopErrs = append(pr.stopErrs, fmt.Errorf("worker %d (pid %d): %s", p.id, p.pid, p.exitDesc))
	}
	if s == nil || pr.stopping {
		if s != nil {
			s.cur = nil
		}
		pr.log.Info("worker exited", append(attrs, keyReason, p.reason)...)
		return
	}
	s.cur = nil
	s.restarts++
	s.lastExit = p.exitDesc
	if p.reason != "" {
		s.lastExit = p.reason + " (" + p.exitDesc + ")"
	}
	b := pr.opts.Backoff
	now := time.Now()
	delay := b.Base
	if wasReady && now.Sub(p.readyAt) >= b.StableAfter {
		s.failures = 0
	}
	if !wasReady || now.Sub(p.readyAt) < b.MinUptime {
		s.failures++
		delay = backoffDelay(b, s.failures)
	}
	delay = jitter(delay)
	s.nextStart = now.Add(delay)
	if p.reason != "" { // else "exit" already says it
		attrs = append(attrs, keyReason, p.reason)
	}
	attrs = append(attrs, "restarts", s.restarts, keyDelay, delay.Round(time.Millisecond).String())
	if s.failures >= b.CrashLoop {
		if !s.crashLoop {
			pr.log.Error("worker crash loop", append(attrs, "failures", s.failures)...)
		} else {
			pr.log.Warn("worker exited (crash loop)", attrs...)
		}
		s.crashLoop = true
		return
	}
	pr.log.Warn("worker exited; respawning", attrs...)
}

// backoffDelay is Base·2^(failures-1), capped at Max.
func backoffDelay(b Backoff, failures int) time.Duration {
	d := b.Base
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// jitter spreads d over [0.8d, 1.2d) so slots do not restart in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// reconcile moves toward the desired slot count and respawns empty slots
// whose backoff has passed. Until a first worker was ready, only one starts
// at a time: it warms the shared compilation cache, and a broken plugin
// fails once instead of once per CPU.
func (pr *Primary) reconcile() {
	if pr.stopping {
		return
	}
	for len(pr.slots) < pr.desired {
		pr.slots = append(pr.slots, &slot{id: pr.freeSlotID(), spec: pr.spec})
	}
	for len(pr.slots) > pr.desired {
		s := pr.slots[len(pr.slots)-1]
		pr.slots = pr.slots[:len(pr.slots)-1]
		if s.cur != nil {
			pr.drainProc(s.cur, "scaled down")
		}
	}
	now := time.Now()
	for _, s := range pr.slots {
		if s.cur != nil || now.Before(s.nextStart) {
			continue
		}
		if !pr.everReady && pr.countState(stateStarting) > 0 {
			return
		}
		p, err := pr.spawn(s.id, s.spec, pr.gated)
		if err != nil {
			s.failures++
			d := jitter(backoffDelay(pr.opts.Backoff, s.failures))
			s.nextStart, s.lastExit = now.Add(d), err.Error()
			pr.log.Error("spawn worker", keyWorker, s.id, keyErr, err, keyDelay, d.String())
			continue
		}
		s.cur = p
		pr.procs[p] = struct{}{}
	}
}

func (pr *Primary) countState(st procState) int {
	n := 0
	for p := range pr.procs {
		if p.state == st {
			n++
		}
	}
	return n
}

func (pr *Primary) freeSlotID() int {
	for id := 1; ; id++ {
		used := false
		for _, s := range pr.slots {
			used = used || s.id == id
		}
		if !used {
			return id
		}
	}
}
