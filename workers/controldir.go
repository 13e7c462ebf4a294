package workers

import (
	"fmt"
	"os"
	"syscall"
)

// ensurePrivateDir makes dir a 0700 directory owned by us. The default
// lives in /tmp when XDG_RUNTIME_DIR is unset, where anyone could have
// created it first: refuse a directory (or symlink) someone else owns.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("control socket dir: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("control socket dir: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
		return fmt.Errorf("control socket dir %s is not a directory owned by uid %d; remove it or pass --control", dir, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("control socket dir: %w", err)
		}
	}
	return nil
}
