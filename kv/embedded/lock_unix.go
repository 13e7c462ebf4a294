//go:build unix

package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir/LOCK: two servers on one dir
// would corrupt each other's JetStream files, and the NATS server does not
// guard against it. The lock goes with the process (and the returned file).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kv.dir = %q: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("kv.dir = %q is in use by another wasmcluster (its LOCK is held)", dir)
		}
		return nil, fmt.Errorf("kv.dir = %q: locking: %w", dir, err)
	}
	return f, nil
}
