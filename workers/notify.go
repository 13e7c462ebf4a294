package workers

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/systemd"
)

// notifier tells a service manager (systemd Type=notify) what the primary
// is doing: READY=1 once it serves, RELOADING=1 at a reload or roll start
// and READY=1 at its end, STOPPING=1 at a graceful stop, STATUS= lines, and
// WATCHDOG=1 pings while its loop answers. Both modes (worker processes and
// in-process) use it. Without $NOTIFY_SOCKET all of it is a no-op.
type notifier struct {
	n         *systemd.Notifier // nil: not under systemd
	log       *slog.Logger
	readySent atomic.Bool // READY=1 sent at least once
	inReload  atomic.Bool // RELOADING=1 sent, READY=1 not yet
}

// openNotifier connects to $NOTIFY_SOCKET (if set) and, when
// $WATCHDOG_USEC asks for it, pings the watchdog while l answers, until l
// returns. Failures only disable it: the service still serves, and systemd
// reports the missing READY itself.
func openNotifier(log *slog.Logger, l *loop) *notifier {
	sd := &notifier{log: log}
	n, err := systemd.NewNotifier()
	if err != nil {
		log.Warn("sd_notify disabled", keyErr, err)
		return sd
	}
	sd.n = n
	every, err := systemd.WatchdogInterval()
	if err != nil {
		log.Warn("systemd watchdog disabled", keyErr, err)
	}
	if every > 0 && n != nil {
		go sd.watchdog(every, l)
	}
	return sd
}

func (sd *notifier) close() { sd.n.Close() }

// send sends states, logging (not returning) a failure: a service manager
// that went away must not stop the primary.
func (sd *notifier) send(f func(*systemd.Notifier) error) {
	if sd.n == nil {
		return
	}
	if err := f(sd.n); err != nil {
		sd.log.Warn("sd_notify", keyErr, err)
	}
}

// ready reports READY=1 with a status line (any goroutine; the notifier
// serializes).
func (sd *notifier) ready(status string) {
	sd.readySent.Store(true)
	sd.inReload.Store(false)
	sd.send(func(n *systemd.Notifier) error { return n.Ready(status) })
}

// reloading reports RELOADING=1 once per reload.
func (sd *notifier) reloading(status string) {
	if sd.inReload.Swap(true) {
		sd.status(status)
		return
	}
	sd.send(func(n *systemd.Notifier) error { return n.Reloading(status) })
}

// reloadEnded ends a reload: READY=1 again if the service had been ready
// (a reload before the first READY leaves that to the first ready).
func (sd *notifier) reloadEnded(status string) {
	if !sd.readySent.Load() {
		sd.inReload.Store(false)
		sd.status(status)
		return
	}
	sd.ready(status)
}

func (sd *notifier) stopping(status string) {
	sd.send(func(n *systemd.Notifier) error { return n.Stopping(status) })
}

func (sd *notifier) status(status string) {
	sd.send(func(n *systemd.Notifier) error { return n.Status(status) })
}

// watchdog pings every interval, but only after l ran a probe within that
// interval: a wedged loop stops the pings and lets systemd restart the
// service, which is the point of the watchdog.
func (sd *notifier) watchdog(every time.Duration, l *loop) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
		}
		if l.responsive(every) {
			sd.send(func(n *systemd.Notifier) error { return n.Watchdog() })
		} else {
			sd.log.Error("supervisor loop did not answer; withholding the watchdog ping", "within", every.String())
		}
	}
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
	return fmt.Sprintf("serving %s: %d/%d workers ready, version %s", pr.ln.Addr(), ready, pr.desired, digest.ShortOrDash(pr.spec.Version))
}
