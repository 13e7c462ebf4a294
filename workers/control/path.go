package control

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/wasmcluster/wasmcluster/internal/unixsock"
)

// DefaultPath is $XDG_RUNTIME_DIR/wasmcluster/control.sock, or
// /tmp/wasmcluster-$UID/control.sock when XDG_RUNTIME_DIR is unset.
func DefaultPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "wasmcluster", "control.sock")
	}
	return filepath.Join(os.TempDir(), "wasmcluster-"+strconv.Itoa(os.Getuid()), "control.sock")
}

// FindSockets lists the control sockets of running instances in the
// default directory: the default path first, then those of instances that
// found it taken (control-<pid>.sock).
func FindSockets() []string {
	def := DefaultPath()
	var out []string
	if unixsock.Live(def) {
		out = append(out, def)
	}
	more, _ := filepath.Glob(filepath.Join(filepath.Dir(def), "control-*.sock"))
	for _, p := range more {
		if unixsock.Live(p) {
			out = append(out, p)
		}
	}
	return out
}

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
