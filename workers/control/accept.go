package control

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// Accept-retry bounds, as net/http's Server uses them: a failed accept is
// retried after 5 ms, doubling to 1 s while failures continue.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// acceptLoop calls serve for every connection ln accepts until ln is
// closed. Any other accept error (EMFILE and ENFILE when the process or
// the system ran out of file descriptors, ECONNABORTED, …) is retried with
// backoff rather than ending the loop: the control socket is how an
// operator looks at an instance in trouble, so it must outlive the
// trouble. log (may be nil) gets the first error of each run of failures.
func acceptLoop(ln net.Listener, log *slog.Logger, serve func(net.Conn)) {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err == nil {
			delay = 0
			serve(conn)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if delay == 0 {
			delay = acceptRetryMin
			if log != nil {
				log.Warn("control socket: accept failed; retrying", "err", err)
			}
		} else {
			delay = min(2*delay, acceptRetryMax)
		}
		time.Sleep(delay)
	}
}
