package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/wasmcluster/wasmcluster/plugins/watch"
)

// StoreDirFor is the snapshot directory of the plugin at path inside root:
// root/<hash of the absolute path>. Stores of different plugins are
// siblings, so a pruner can find what each keeps.
func StoreDirFor(root, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("plugin %s: %w", path, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(root, hex.EncodeToString(sum[:8])), nil
}

// readPlugin checks the plugin file against the Rules and reads it; an
// empty file is an error. Read errors are counted.
func (m *Manager) readPlugin(ctx context.Context) ([]byte, error) {
	m.log.Debug("reading plugin file")
	data, err := watch.ReadFile(ctx, m.path, m.opts.Rules) // the error names the path
	if err == nil {
		// After the read, which refuses what is not a regular file: that
		// is the first thing to fix.
		if err = watch.CheckOwnership(m.path); err != nil && m.opts.Rules.AllowInsecure {
			m.log.Warn("plugin file is writable by other users; serving it because plugin.allow_insecure_path is set", slog.Any("err", err))
			err = nil
		}
	}
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("plugin file %s is empty", m.path)
	}
	if err != nil {
		m.mu.Lock()
		m.errs++
		m.mu.Unlock()
		return nil, fmt.Errorf("read plugin: %w", err)
	}
	return data, nil
}
