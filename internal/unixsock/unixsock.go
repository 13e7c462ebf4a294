package unixsock

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"
)

// ErrInUse reports a socket some process accepts on.
var ErrInUse = errors.New("in use by another process")

// ErrNotSocket reports a path that holds something other than a socket.
var ErrNotSocket = errors.New("exists and is not a socket")

// RemoveStale makes path free for a unix socket listener: nothing there is
// fine, a stale socket is removed, anything else is an error (wrapping
// ErrNotSocket or ErrInUse) that names the path.
func RemoveStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s %w (it is %s); remove it yourself or pick another path", path, ErrNotSocket, kind(fi.Mode()))
	}
	if Live(path) {
		return fmt.Errorf("%s is %w", path, ErrInUse)
	}
	return os.Remove(path)
}

// Live reports whether something accepts on the unix socket at path.
func Live(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	}
	return "mode " + m.String()
}
