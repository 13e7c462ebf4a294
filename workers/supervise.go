package workers

// Supervision: what the primary's loop does with a worker's messages, on
// every tick and when a worker exits, and how it brings the worker set back
// to the desired count with backoff.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// onExit records a worker's exit and, unless the primary is stopping or
// the worker had been replaced, schedules its slot's respawn.
func (pr *Primary) onExit(p *proc, st *os.ProcessState, werr error) {
	wasReady := !p.readyAt.IsZero()
	pr.reap(p, st, werr)
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
	if p.reason != "" { // else "exit" already says it
		attrs = append(attrs, keyReason, p.reason)
	}
	pr.respawnLater(s, p, wasReady, attrs)
}

// reap forgets an exited worker: its exit reason, its metrics, and anyone
// waiting for it to become ready or to exit.
func (pr *Primary) reap(p *proc, st *os.ProcessState, werr error) {
	delete(pr.procs, p)
	p.state = stateExited
	pr.board.Release(p.bslot) // its connections died with it
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
}

// respawnLater empties s after its worker p exited unexpectedly (or was
// stopped as hung) and sets when reconcile starts the next one: at once
// after a stable run, with a growing backoff after quick failures, which
// also mark a crash loop.
func (pr *Primary) respawnLater(s *slot, p *proc, wasReady bool, attrs []any) {
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
	attrs = append(attrs, "restarts", s.restarts, keyDelay, delay.Round(time.Millisecond).String())
	if !pr.everReady && s.failures >= b.CrashLoop {
		// A cold start whose workers all fail serves nobody: exit (1, for
		// the CLI) with the reason, instead of holding the port open
		// while crash-looping forever. After a good start, the slot keeps
		// respawning with backoff as below.
		pr.coldErr = fmt.Errorf("%w: worker %d failed %d times in a row: %s", ErrNoWorkerReady, s.id, s.failures, s.lastExit)
		pr.log.Error("no worker became ready; stopping", append(attrs, "failures", s.failures)...)
		pr.beginStop(true)
		return
	}
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

// kill ends p at once.
func (pr *Primary) kill(p *proc, reason string) {
	if p.reason == "" {
		p.reason = reason
	}
	p.state = stateStopping
	p.signal(syscall.SIGKILL)
}

// drainProc tells p to drain and bounds it by the drain timeout.
func (pr *Primary) drainProc(p *proc, reason string) {
	switch p.state {
	case stateStarting:
		pr.kill(p, reason) // never served; nothing to drain
		return
	case stateDraining, stateStopping, stateExited:
		return
	}
	p.reason = reason
	p.state = stateDraining
	p.ctrl.send(message{Type: msgDrain})
	p.killAt = time.Now().Add(pr.opts.DrainTimeout + 5*time.Second)
}

// hang handles a worker that stopped answering: stack dump (the Go runtime
// prints every goroutine on SIGQUIT; SIGCONT lets a stopped one do it),
// then SIGKILL shortly after.
func (pr *Primary) hang(p *proc, reason string) {
	pr.log.Error("worker not responding; dumping stacks and killing it", keyWorker, p.id, keyPID, p.pid, keyReason, reason)
	p.reason, p.dumped, p.state = reason, true, stateStopping
	p.signal(syscall.SIGQUIT)
	p.signal(syscall.SIGCONT)
	p.killAt = time.Now().Add(2 * time.Second)
}

// check runs on every tick: kill deadlines, heartbeats, start timeouts,
// stable-slot resets.
func (pr *Primary) check() {
	now := time.Now()
	pr.checkRecycle(now) // recycle.go: RSS samples, recycling
	pr.checkStaged(now)  // prestage.go
	for p := range pr.procs {
		if !p.killAt.IsZero() && now.After(p.killAt) {
			pr.log.Warn("worker did not exit in time; SIGKILL", keyWorker, p.id, keyPID, p.pid, keyState, string(p.state))
			p.killAt = time.Time{}
			p.signal(syscall.SIGKILL)
		}
		if p.dumped {
			continue
		}
		switch p.state {
		case stateStarting:
			if now.Sub(p.started) > pr.opts.StartTimeout {
				pr.hang(p, "start timeout")
			} else if now.Sub(p.lastBeat) > pr.opts.HeartbeatTimeout {
				pr.hang(p, "heartbeat timeout")
			}
		case stateReady, stateDraining:
			if now.Sub(p.lastBeat) > pr.opts.HeartbeatTimeout {
				pr.hang(p, "heartbeat timeout")
			}
		}
	}
	for _, s := range pr.slots {
		if s.failures > 0 && s.cur != nil && s.cur.state == stateReady && now.Sub(s.cur.readyAt) >= pr.opts.Backoff.StableAfter {
			if s.crashLoop {
				pr.log.Info("worker slot stable again", keyWorker, s.id)
			}
			s.failures, s.crashLoop = 0, false
		}
	}
}

func (pr *Primary) handle(ev event) {
	p := ev.p
	if ev.msg == nil {
		pr.onExit(p, ev.st, ev.exit)
		return
	}
	m := ev.msg
	p.lastBeat = time.Now()
	switch m.Type {
	case msgBeat:
		p.requests, p.inFlight = m.Requests, m.InFlight
		pr.onBeat(p, m) // metrics.go
	case msgReady:
		if p.state != stateStarting {
			return
		}
		p.state, p.readyAt, p.version = stateReady, time.Now(), m.Version
		if p.version == "" {
			p.version = p.spec.Version
		}
		pr.everReady = true
		pr.log.Info("worker ready", keyWorker, p.id, keyPID, p.pid, keyVersion, p.version,
			"start", time.Since(p.started).Round(time.Millisecond).String())
		for _, w := range p.waiters {
			w <- nil
		}
		p.waiters = nil
		pr.notifyReady()
	case msgDraining:
		if p.state == stateReady {
			p.state = stateDraining
		}
	case msgFatal:
		p.fatalErr = m.Error
		pr.log.Error("worker failed", keyWorker, p.id, keyPID, p.pid, keyErr, m.Error)
	}
}

func (pr *Primary) notifyReady() {
	if pr.readyNotified || len(pr.slots) < pr.desired {
		return
	}
	for _, s := range pr.slots {
		if s.cur == nil || s.cur.state != stateReady {
			return
		}
	}
	pr.readyNotified = true
	pr.sd.ready(pr.readyLine())
	if pr.opts.OnReady != nil {
		go pr.opts.OnReady(pr.ln.Addr())
	}
}
