package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run watches the project's directory tree (without ignoredDirs) and
// rebuilds when a source changed and the tree has been quiet for
// Debounce, until ctx ends. Build failures are logged with the compiler's
// output and kept for Status; only a failure of the watch itself is
// returned.
func (d *Dev) Run(ctx context.Context) error {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.dir, err)
	}
	defer fsw.Close()
	if err := d.addTree(fsw, d.dir); err != nil {
		return fmt.Errorf("watch %s: %w", d.dir, err)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("watch " + d.dir + ": watcher closed")
			}
			if d.changed(fsw, ev) {
				timer.Reset(d.o.Debounce)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return errors.New("watch " + d.dir + ": watcher closed")
			}
			d.log.Warn("watching plugin sources", "dir", d.dir, "err", err)
		case <-timer.C:
			if _, err := d.Rebuild(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("plugin build failed; the running version keeps serving", "dir", d.dir, "err", err.Error())
			}
		}
	}
}

// changed handles one event: a new directory is watched too; it reports
// whether the event is a source change.
func (d *Dev) changed(fsw *fsnotify.Watcher, ev fsnotify.Event) bool {
	if ev.Has(fsnotify.Create) {
		if st, err := os.Stat(ev.Name); err == nil && st.IsDir() && !ignoredDirs[filepath.Base(ev.Name)] {
			if err := d.addTree(fsw, ev.Name); err != nil {
				d.log.Warn("watching plugin sources", "dir", ev.Name, "err", err)
			}
			return true
		}
	}
	if ev.Op == fsnotify.Chmod {
		return false
	}
	_, err := os.Stat(filepath.Join(d.dir, ManifestFile))
	return d.isSource(ev.Name, err == nil)
}

// addTree watches root and every directory below it but ignoredDirs and
// hidden ones.
func (d *Dev) addTree(fsw *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		name := e.Name()
		if path != root && (ignoredDirs[name] || (len(name) > 1 && name[0] == '.')) {
			return filepath.SkipDir
		}
		return fsw.Add(path)
	})
}
