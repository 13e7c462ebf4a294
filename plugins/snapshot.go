package plugins

import (
	"fmt"
	"log/slog"

	"github.com/wasmcluster/wasmcluster/internal/fsfail"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// snapshot copies data into the snapshot store. When the store's disk
// refuses the write (full, read-only) and a spare directory is configured,
// the Manager moves to a store there, once, and tries again: a full cache
// disk must not stop a deploy.
func (m *Manager) snapshot(data []byte, hash string) (store.Snapshot, error) {
	st := m.store.Load()
	snap, err := st.PutHashed(data, hash)
	if err == nil || !fsfail.Write(err) || m.opts.SpareStoreDir == nil {
		return snap, err
	}
	m.spare.Do(func() { m.openSpare(st.Dir(), err) })
	if next := m.store.Load(); next != st {
		return next.PutHashed(data, hash)
	}
	return snap, err
}

// openSpare switches to the spare store, logging why once.
func (m *Manager) openSpare(dir string, cause error) {
	spareDir, err := m.opts.SpareStoreDir()
	if err == nil {
		var st *store.Store
		if st, err = store.Open(spareDir); err == nil {
			m.store.Store(st)
			m.log.Warn("snapshot directory refuses writes; keeping snapshots in a temporary directory for this run",
				slog.String("dir", dir), slog.String("spare", spareDir), slog.Any("err", cause))
			return
		}
	}
	m.log.Error("snapshot directory refuses writes and no spare directory could be made",
		slog.String("dir", dir), slog.Any("err", fmt.Errorf("%w (spare: %w)", cause, err)))
}
