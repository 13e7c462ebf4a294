//go:build unix

package host

import (
	"fmt"
	"io/fs"
	"syscall"
)

// checkPrivate refuses path unless only the user uid (and root) can change
// it: owned by uid and not writable by group or others. Anyone else who could write there could swap the compiled code
// the server runs.
func checkPrivate(path string, fi fs.FileInfo, uid int) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("%w: %s is owned by uid %d, not by the server's uid %d: remove it, or chown -R %d %s if that user is trusted",
			ErrUnsafeCache, path, st.Uid, uid, uid, path)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %v): chmod -R go-w %s",
			ErrUnsafeCache, path, perm, path)
	}
	return nil
}
