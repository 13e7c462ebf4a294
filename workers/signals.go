package workers

import (
	"os"
	"os/signal"
	"syscall"
)

// catchSignals delivers the signals both modes act on: TERM and INT stop
// gracefully (a second one stops fast), QUIT stops fast, HUP reloads, TTIN
// and TTOU scale. With ignore, the channel is nil (never ready) and the
// caller leaves signals to whoever embeds it. stop undoes it.
func catchSignals(ignore bool) (sigs chan os.Signal, stop func()) {
	if ignore {
		return nil, func() {}
	}
	sigs = make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
	return sigs, func() { signal.Stop(sigs) }
}
