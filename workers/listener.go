package workers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wasmcluster/wasmcluster/internal/unixsock"
)

// Listen creates the listening socket for addr: "host:port" for TCP (v4 or
// v6, e.g. "[::1]:8080") or "unix:/path" for a unix socket. A stale unix
// socket file (nothing listening) is removed first; anything else at the
// path is left alone and reported.
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("listen on %q: empty unix socket path", addr)
		}
		if err := unixsock.RemoveStale(path); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// ListenerFromSystemd returns the first socket passed by systemd socket
// activation (LISTEN_PID/LISTEN_FDS), or nil, nil when there is none. It
// unsets the variables so children do not see them.
func ListenerFromSystemd() (net.Listener, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	if pid == "" || fds == "" {
		return nil, nil
	}
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("LISTEN_FDS=%q: want a positive count", fds)
	}
	const first = 3 // SD_LISTEN_FDS_START
	f := os.NewFile(first, "systemd-listener")
	ln, err := net.FileListener(f) // dups with CLOEXEC and sets non-blocking
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("systemd socket (fd %d): %w", first, err)
	}
	return ln, nil
}

// dupListener duplicates ln's descriptor for a child process.
//
// It must not use (*TCPListener).File(): File's Fd() flips the shared open
// file description to blocking mode for every process, and a worker then
// blocks in accept forever (Go issues 29277, 24942). F_DUPFD_CLOEXEC inside
// SyscallConn().Control leaves the flags alone, and os.NewFile on a
// non-blocking descriptor does not flip it back on Fd().
func dupListener(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("listener %T has no file descriptor", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("listener syscall conn: %w", err)
	}
	var dup int
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("listener control: %w", err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("dup listener: %w", dupErr)
	}
	return os.NewFile(uintptr(dup), "listener:"+ln.Addr().String()), nil
}

// listenerNonblocking reports whether ln's descriptor (and so the shared
// open file description) is in non-blocking mode.
func listenerNonblocking(ln net.Listener) (bool, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return false, errors.New("listener has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
	}); err != nil {
		return false, err
	}
	if ferr != nil {
		return false, ferr
	}
	return flags&unix.O_NONBLOCK != 0, nil
}
