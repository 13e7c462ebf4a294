package plugins

import (
	"context"
	"fmt"
	"os"

	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// Stage is Load in two steps, so a primary can start work on a version
// while it is being checked. Stage reads the plugin file and stores its
// snapshot without deciding on it, and returns the version the content
// becomes if accepted, plus decide, which preflights that very content
// (not whatever the file holds by then) and records the decision as Load
// does: it returns the accepted version, or the refusal or read error a
// primary should refuse to start with. Until decide returned, nothing
// loaded from the snapshot may take traffic. Call decide once.
func (m *Manager) Stage(ctx context.Context) (Version, func(context.Context) (Version, error), error) {
	data, err := m.readPlugin(ctx)
	if err != nil {
		return Version{}, nil, err
	}
	snap, err := m.snapshot(data, store.Hash(data))
	if err != nil {
		return Version{}, nil, fmt.Errorf("store snapshot: %w", err)
	}
	staged := Version{Hash: snap.Hash, Path: snap.Path, Size: snap.Size}
	decide := func(ctx context.Context) (Version, error) {
		m.decideMu.Lock()
		ev, err := m.decide(ctx, data, snap.Hash, TriggerInitial)
		m.decideMu.Unlock()
		if err == nil && !ev.Accepted() {
			err = ev.Err
		}
		if err != nil && snap.Created {
			_ = os.Remove(snap.Path) // a refused version never runs
		}
		if err != nil {
			return Version{}, err
		}
		return ev.Version, nil
	}
	return staged, decide, nil
}
