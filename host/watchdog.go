package host

import (
	"log/slog"
	"time"
)

// stuckGrace is how far past RequestTimeout a request may run before the
// watchdog calls it stuck.
const stuckGrace = time.Second

// watchdog runs when guests are uninterruptible: it reports, once, a request
// that stayed in the guest past RequestTimeout plus stuckGrace, so the
// caller can end the process before the guest freezes it at the next GC.
func (p *Plugin) watchdog() {
	period := min(time.Second, p.cfg.RequestTimeout/4)
	tick := time.NewTicker(period)
	defer tick.Stop()
	limit := p.cfg.RequestTimeout + stuckGrace
	for {
		select {
		case <-p.stopWatchdog:
			return
		case now := <-tick.C:
			age := p.pool.oldestBusy(now.UnixNano())
			if age <= limit {
				continue
			}
			p.log.Error("a request is stuck in the guest past its deadline and cannot be interrupted (plugin.interrupt is off)",
				slog.Duration("age", age), slog.Duration("request_timeout", p.cfg.RequestTimeout))
			if p.cfg.OnStuck != nil {
				p.cfg.OnStuck(age)
			}
			return
		}
	}
}
