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
	var burst time.Time // first change of the burst a rebuild waits for; zero if none
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("watch " + d.dir + ": watcher closed")
			}
			if d.changed(fsw, ev) {
				burst = d.postpone(timer, burst, time.Now())
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return errors.New("watch " + d.dir + ": watcher closed")
			}
			d.log.Warn("watching plugin sources", "dir", d.dir, "err", err)
		case <-timer.C:
			burst = time.Time{}
			if _, err := d.Rebuild(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("plugin build failed; the running version keeps serving", "dir", d.dir, "err", err.Error())
			}
		}
	}
}

// postpone (re)starts the debounce for a change at now, in the burst that
// began at burst (zero: this change begins one). Changes that keep coming
// postpone the rebuild by at most maxPostpone debounces. It returns the
// burst's start.
func (d *Dev) postpone(timer *time.Timer, burst, now time.Time) time.Time {
	if burst.IsZero() {
		burst = now
	}
	timer.Reset(min(d.o.Debounce, max(0, burst.Add(maxPostpone*d.o.Debounce).Sub(now))))
	return burst
}

// maxPostpone bounds, in debounces, how long changes can postpone a rebuild.
const maxPostpone = 10

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
