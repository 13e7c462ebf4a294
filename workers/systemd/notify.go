package systemd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notifier sends state changes to the service manager. The zero value and
// a nil *Notifier are valid and do nothing.
type Notifier struct {
	mu   sync.Mutex
	conn *net.UnixConn
}

// NewNotifier connects to $NOTIFY_SOCKET. It returns a nil Notifier (which
// does nothing) when the variable is unset, i.e. not running under systemd.
// A path starting with '@' is a Linux abstract socket.
func NewNotifier() (*Notifier, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil, nil
	}
	return Dial(path)
}

// Dial connects to the notify socket at path.
func Dial(path string) (*Notifier, error) {
	name := path
	if strings.HasPrefix(path, "@") {
		name = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("connect to NOTIFY_SOCKET %s: %w", path, err)
	}
	return &Notifier{conn: conn}, nil
}

// Notify sends one datagram with the given "KEY=value" lines.
func (n *Notifier) Notify(states ...string) error {
	if n == nil || n.conn == nil || len(states) == 0 {
		return nil
	}
	for _, s := range states {
		if strings.ContainsRune(s, '\n') || !strings.Contains(s, "=") {
			return fmt.Errorf("sd_notify: malformed state %q", s)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.conn.Write([]byte(strings.Join(states, "\n") + "\n")); err != nil {
		return fmt.Errorf("sd_notify %s: %w", strings.Join(states, " "), err)
	}
	return nil
}

// Ready reports that startup finished, with a status line.
func (n *Notifier) Ready(status string) error {
	return n.Notify("READY=1", "STATUS="+status, "MAINPID="+strconv.Itoa(os.Getpid()))
}

// Reloading reports the start of a reload. systemd (≥ 253, Type=notify-reload)
// wants the monotonic time with it; older versions ignore the extra field.
func (n *Notifier) Reloading(status string) error {
	return n.Notify("RELOADING=1", "STATUS="+status, "MONOTONIC_USEC="+strconv.FormatInt(monotonicUsec(), 10))
}

// Stopping reports the start of a graceful stop.
func (n *Notifier) Stopping(status string) error {
	return n.Notify("STOPPING=1", "STATUS="+status)
}

// Status updates the one-line status systemctl shows.
func (n *Notifier) Status(status string) error { return n.Notify("STATUS=" + status) }

// Watchdog pings the service manager's watchdog.
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// Close releases the socket.
func (n *Notifier) Close() error {
	if n == nil || n.conn == nil {
		return nil
	}
	return n.conn.Close()
}

// WatchdogInterval returns how often to ping, half of $WATCHDOG_USEC as
// sd_watchdog_enabled(3) advises, or 0 when no watchdog is set for this
// process.
func WatchdogInterval() (time.Duration, error) {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, nil // meant for another process
	}
	v, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || v <= 0 {
		return 0, errors.New("WATCHDOG_USEC=" + usec + ": want a positive number of microseconds")
	}
	return time.Duration(v) * time.Microsecond / 2, nil
}
