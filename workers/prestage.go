package workers

import "time"

// stageTimeout stops a staged worker no roll claimed: its version was
// refused or superseded without Unstage being called. Below the default
// StartTimeout, which would treat the held worker as hung.
const stageTimeout = 30 * time.Second

// Prestage starts, held back, the first worker a roll to spec will need,
// while spec is still being checked (the primary's preflight of a new
// plugin version): the worker loads and self-tests the version but does not
// accept connections until a roll to spec claims it (startWorker), so the
// check and that worker's start overlap. It never lets a version serve by
// itself: only a roll does, and rolls are only asked for accepted versions.
//
// It does nothing while a roll is under way or queued, or another worker is
// starting (one surge worker at a time), or before the first workers passed
// the gate. Staging another version, or a roll claiming a slot with
// another one, stops the staged worker; so does Unstage, and a staged
// worker nobody claimed for stageTimeout.
func (pr *Primary) Prestage(spec Spec) {
	pr.do(func() {
		if pr.stopping || pr.gated || pr.rq.busy() {
			return
		}
		if sp := pr.staged; sp != nil {
			if sp.spec.Version == spec.Version && sp.state == stateStarting {
				return
			}
			pr.unstage("another version was staged")
		}
		if pr.countState(stateStarting) > 0 {
			return
		}
		for _, s := range pr.slots { // the slot nextSlot will pick
			if s.cur == nil || s.cur.state != stateReady || s.cur.spec.Version == spec.Version {
				continue
			}
			p, err := pr.spawn(s.id, spec, true)
			if err != nil {
				pr.log.Warn("prestage worker", keyWorker, s.id, keyErr, err)
				return
			}
			pr.procs[p] = struct{}{}
			pr.staged, pr.stagedAt = p, time.Now()
			pr.log.Debug("worker staged while the new version is checked", keyWorker, s.id, keyPID, p.pid, keyVersion, spec.Version)
			return
		}
	})
}

// Unstage stops the worker staged for version, if any (the version was
// refused); "" stops any staged worker (a newer version is being checked
// without one).
func (pr *Primary) Unstage(version string) {
	pr.do(func() {
		if pr.staged != nil && (version == "" || pr.staged.spec.Version == version) {
			pr.unstage("staged version not accepted")
		}
	})
}

// claimStaged hands the staged worker to a roll starting slot id on spec,
// letting it serve; a staged worker of another version or slot is stopped.
// Runs on the supervisor goroutine.
func (pr *Primary) claimStaged(id int, spec Spec) *proc {
	sp := pr.staged
	if sp == nil {
		return nil
	}
	if sp.spec.Version != spec.Version || sp.id != id || sp.state != stateStarting || pr.gated {
		pr.unstage("a roll needs another worker")
		return nil
	}
	pr.staged = nil
	sp.held = false
	sp.ctrl.send(message{Type: msgServe})
	return sp
}

// unstage kills the staged worker: it never served.
func (pr *Primary) unstage(reason string) {
	if sp := pr.staged; sp != nil {
		pr.staged = nil
		pr.kill(sp, reason)
	}
}

// checkStaged stops a staged worker no roll claimed in time.
func (pr *Primary) checkStaged(now time.Time) {
	if pr.staged != nil && now.Sub(pr.stagedAt) > stageTimeout {
		pr.unstage("staged version never rolled out")
	}
}
