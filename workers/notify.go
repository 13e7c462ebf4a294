package workers

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/systemd"
)

// sdState tells a service manager (systemd Type=notify) what the primary
// is doing: READY=1 once the configured workers are ready, RELOADING=1 at a
// reload or roll start and READY=1 at its end, STOPPING=1 at a graceful
// stop, STATUS= lines, and WATCHDOG=1 pings while the supervisor loop
// answers. Without $NOTIFY_SOCKET the notifier is nil and all of it is a
// no-op.
type sdState struct {
	n         *systemd.Notifier
	ready     atomic.Bool // READY=1 sent at least once
	reloading atomic.Bool // RELOADING=1 sent, READY=1 not yet
}

// openNotify connects to $NOTIFY_SOCKET (if set) and starts the watchdog
// pinger when $WATCHDOG_USEC asks for one. Failures only disable it: the
// service still serves, and systemd reports the missing READY itself.
func (pr *Primary) openNotify() {
	n, err := systemd.NewNotifier()
	if err != nil {
		pr.log.Warn("sd_notify disabled", keyErr, err)
		return
	}
	pr.sd.n = n
	every, err := systemd.WatchdogInterval()
	if err != nil {
		pr.log.Warn("systemd watchdog disabled", keyErr, err)
	}
	if every > 0 && n != nil {
		go pr.watchdog(every)
	}
}

func (pr *Primary) closeNotify() { pr.sd.n.Close() }

// sdNotify sends states, logging (not returning) a failure: a service
// manager that went away must not stop the primary.
func (pr *Primary) sdNotify(f func(*systemd.Notifier) error) {
	if pr.sd.n == nil {
		return
	}
	if err := f(pr.sd.n); err != nil {
		pr.log.Warn("sd_notify", keyErr, err)
	}
}

// sdReady reports READY=1 with a status line (supervisor goroutine or
// roller; the notifier serializes).
func (pr *Primary) sdReady(status string) {
	pr.sd.ready.Store(true)
	pr.sd.reloading.Store(false)
	pr.sdNotify(func(n *systemd.Notifier) error { return n.Ready(status) })
}

// sdReloading reports RELOADING=1 once per reload.
func (pr *Primary) sdReloading(status string) {
	if pr.sd.reloading.Swap(true) {
		pr.sdNotify(func(n *systemd.Notifier) error { return n.Status(status) })
		return
	}
	pr.sdNotify(func(n *systemd.Notifier) error { return n.Reloading(status) })
}

// sdReloadEnded ends a reload: READY=1 again if the service had been ready
// (a reload before the first READY leaves that to notifyReady).
func (pr *Primary) sdReloadEnded(status string) {
	if !pr.sd.ready.Load() {
		pr.sd.reloading.Store(false)
		pr.sdNotify(func(n *systemd.Notifier) error { return n.Status(status) })
		return
	}
	pr.sdReady(status)
}

func (pr *Primary) sdStopping(status string) {
	pr.sdNotify(func(n *systemd.Notifier) error { return n.Stopping(status) })
}

func (pr *Primary) sdStatus(status string) {
	pr.sdNotify(func(n *systemd.Notifier) error { return n.Status(status) })
}

// readyLine is the STATUS= text for a serving primary (supervisor-owned
// state: call on its goroutine).
func (pr *Primary) readyLine() string {
	ready := 0
	for _, s := range pr.slots {
		if s.cur != nil && s.cur.state == stateReady {
			ready++
		}
	}
	return fmt.Sprintf("serving %s: %d/%d workers ready, version %s", pr.ln.Addr(), ready, pr.desired, shortVersion(pr.spec.Version))
}

func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	if v == "" {
		return "-"
	}
	return v
}

// watchdog pings every interval, but only after the supervisor loop ran a
// probe within that interval: a wedged supervisor stops the pings and lets
// systemd restart the service, which is the point of the watchdog.
func (pr *Primary) watchdog(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-pr.quit:
			return
		case <-t.C:
		}
		if pr.responsive(every) {
			pr.sdNotify(func(n *systemd.Notifier) error { return n.Watchdog() })
		} else {
			pr.log.Error("supervisor loop did not answer; withholding the watchdog ping", "within", every.String())
		}
	}
}

// responsive reports whether the supervisor loop picks up a no-op command
// within d.
func (pr *Primary) responsive(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case pr.cmds <- func() {}:
		return true
	case <-pr.quit:
		return false
	case <-timer.C:
		return false
	}
}
