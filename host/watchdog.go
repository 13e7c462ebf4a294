package host

import (
	"log/slog"
	"time"
)

// stuckGrace is how far past RequestTimeout an uninterruptible request may
// run before the watchdog calls it stuck.
const stuckGrace = time.Second

// watchdog enforces request deadlines for the plugin's instances.
//
// Interruptible guests: a request past RequestTimeout, or whose client went
// away, is interrupted (see deadline.go); the tick is a twentieth of the
// timeout, at most 100 ms, so a 504 comes at most that late.
//
// Uninterruptible guests cannot be stopped: the watchdog reports, once, a
// request that stayed in the guest past RequestTimeout plus stuckGrace, so
// the caller can end the process before the guest freezes it at the next GC.
func (p *Plugin) watchdog() {
	period := min(100*time.Millisecond, max(time.Millisecond, p.cfg.RequestTimeout/20))
	if p.cfg.Uninterruptible {
		period = min(time.Second, p.cfg.RequestTimeout/4)
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-p.stopWatchdog:
			return
		case now := <-tick.C:
			if p.cfg.Uninterruptible {
				if p.reportStuck(now) {
					return
				}
				continue
			}
			p.pool.interruptOverdue(now.UnixNano(), p.cfg.RequestTimeout)
		}
	}
}

// reportStuck calls OnStuck if a request is stuck; it reports whether it did.
func (p *Plugin) reportStuck(now time.Time) bool {
	age := p.pool.oldestBusy(now.UnixNano())
	if age <= p.cfg.RequestTimeout+stuckGrace {
		return false
	}
	p.log.Error("a request is stuck in the guest past its deadline and cannot be interrupted (plugin.interrupt is off)",
		slog.Duration("age", age), slog.Duration("request_timeout", p.cfg.RequestTimeout))
	if p.cfg.OnStuck != nil {
		p.cfg.OnStuck(age)
	}
	return true
}
