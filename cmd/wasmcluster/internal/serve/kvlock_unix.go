//go:build unix

package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// kvLockName is the file in kv.dir the primary holds locked while its
// embedded store runs.
const kvLockName = "wasmcluster.lock"

// lockKVDir takes kv.dir for this instance: two embedded NATS servers on
// one directory would both write its files. A second instance on the same
// directory is refused, naming the setting.
func lockKVDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kv.dir %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, kvLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kv.dir %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("kv.dir %s is in use by another wasmcluster instance: give each instance its own "+
				"kv.dir (--kv-dir), or share one store between them with kv.url (nats:// or redis://)", dir)
		}
		return nil, fmt.Errorf("kv.dir %s: lock: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing drops the lock
}
