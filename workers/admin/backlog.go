package admin

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// backlog reads the listening socket's accept queue from /proc/net/tcp
// and tcp6: for a socket in LISTEN state the kernel reports the queued
// connections (accepted by the kernel, not yet by a worker) as rx_queue.
// ok is false for unix sockets and off Linux.
func backlog(ino uint64) (queued uint64, ok bool) {
	if ino == 0 {
		return 0, false
	}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if q, found := scanProcNetTCP(f, ino); found {
			return q, true
		}
	}
	return 0, false
}

// socketInode finds a socket's inode through SyscallConn (never Fd(),
// which would flip the shared socket to blocking mode); 0 if unknown.
func socketInode(c any) uint64 {
	var ino uint64
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) {
				var st syscall.Stat_t
				if syscall.Fstat(int(fd), &st) == nil {
					ino = st.Ino
				}
			})
		}
	}
	return ino
}

func scanProcNetTCP(path string, inode uint64) (queued uint64, found bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	want := strconv.FormatUint(inode, 10)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if len(fields) < 10 || fields[9] != want || fields[3] != "0A" {
			continue
		}
		_, rx, ok := strings.Cut(fields[4], ":")
		if !ok {
			return 0, false
		}
		q, err := strconv.ParseUint(rx, 16, 64)
		return q, err == nil
	}
	return 0, false
}
