package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// Change is one new content of the watched file.
type Change struct {
	Path    string    // the watched path, as given to New (made absolute)
	Hash    string    // hex SHA-256 of Data
	Data    []byte    // the bytes that were hashed; never re-read Path
	ModTime time.Time // modification time of the file that was read
	At      time.Time // when the change was detected
}

// Size is the length of the content in bytes.
func (c Change) Size() int64 { return int64(len(c.Data)) }

// Options tunes a Watcher. The zero value is valid.
type Options struct {
	// Debounce is how long the directory must be quiet before the file is
	// looked at. Defaults to 100ms.
	Debounce time.Duration

	// MaxDelay bounds how long events can keep postponing a look.
	// Defaults to 1s.
	MaxDelay time.Duration

	// Stable is the interval between the two stats that must agree before
	// the file is read. Defaults to 50ms.
	Stable time.Duration

	// Poll is the interval of a stat-only safety net that schedules a look
	// when the file's size, mtime or inode changed without an event.
	// Defaults to 2s; negative disables it.
	Poll time.Duration

	// Baseline is the hash of the version already serving. A file with this
	// hash is not reported. When empty, the file's content at start is
	// reported (if present and non-empty).
	Baseline string

	// Rules refuse files that are not regular, too large, or replaceable
	// by other users: such a content is logged and never reported.
	Rules Rules

	// Logger receives debug and warning messages (file missing, empty,
	// refused, fsnotify errors). Defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults for the zero values of Options.
const (
	DefaultDebounce = 100 * time.Millisecond
	DefaultMaxDelay = time.Second
	DefaultStable   = 50 * time.Millisecond
	DefaultPoll     = 2 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.MaxDelay < o.Debounce {
		o.MaxDelay = o.Debounce
	}
	if o.Stable <= 0 {
		o.Stable = DefaultStable
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Stats counts what a Watcher saw. All fields only grow.
type Stats struct {
	Events    uint64 // fsnotify events in the watched directories
	Checks    uint64 // looks at the file (stat + maybe read)
	Emitted   uint64 // changes delivered to the channel
	Coalesced uint64 // changes replaced by a newer one before being received
	Unchanged uint64 // complete reads whose hash was the last one reported
	Missing   uint64 // looks that found no file
	Empty     uint64 // looks that found an empty file
	Refused   uint64 // looks that found a file Rules refuse (special, too large, insecure)
	Unstable  uint64 // looks postponed because the file was still changing
	Errors    uint64 // fsnotify errors and unexpected stat/read failures
}

// mtimeSettled is how much older than a look a file's mtime must be for the
// look to vouch for the content until the mtime changes (file timestamps
// come from a coarse clock, a few ms per tick).
const mtimeSettled = 2 * time.Second

// Watcher watches one plugin file. Create it with New, run it with Run.
type Watcher struct {
	path string
	dir  string
	opts Options
	fsw  *fsnotify.Watcher
	out  chan Change
	// rebase carries a new "last reported" hash from Rebase to Run.
	rebase chan string

	// Owned by the Run goroutine.
	last     string    // hash last reported (or the baseline)
	target   string    // extra watched directory of the symlink target, if any
	resolved string    // the file the path resolved to at the last look
	dirLost  bool      // the watched directory was removed: re-add it on a look
	seen     fileID    // what the last completed look found, for Poll
	seenAt   time.Time // when seen was taken
	hashed   bool      // seen's content was read and hashed
	probe    fileID    // first stat of the look in progress
	missing  bool      // last look found no file (log transitions only)
	empty    bool      // last look found an empty file
	refused  string    // why the last look refused the file, "" if it did not
	deadline time.Time // MaxDelay deadline of the pending look, zero if none
	ph       phase     // of the pending look
	// timer fires the next step of the pending look.
	timer *time.Timer
	// dirty records events that arrived while probing: they must not restart
	// the probe (a noisy directory would starve it) but must cause another
	// look once this one is done.
	dirty bool

	stats struct {
		events, checks, emitted, coalesced, unchanged, missing, empty, refused, unstable, errors atomic.Uint64
	}
}

// New starts watching the directory of path. The directory must exist; the
// file need not (it is reported once it appears). Call Run to process events.
func New(path string, opts Options) (*Watcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", abs, err)
	}
	w := &Watcher{
		path:   abs,
		dir:    filepath.Dir(abs),
		opts:   opts.withDefaults(),
		fsw:    fsw,
		out:    make(chan Change, 1),
		rebase: make(chan string, 1),
		last:   opts.Baseline,
	}
	if err := fsw.Add(w.dir); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watch directory %s: %w", w.dir, err)
	}
	w.followTarget()
	return w, nil
}

// Watch is New followed by Run in a goroutine: it returns the changes
// channel, closed once ctx is done.
func Watch(ctx context.Context, path string, opts Options) (<-chan Change, error) {
	w, err := New(path, opts)
	if err != nil {
		return nil, err
	}
	go func() { _ = w.Run(ctx) }()
	return w.Changes(), nil
}

// Path returns the absolute watched path.
func (w *Watcher) Path() string { return w.path }

// Changes returns the channel changes are delivered on. It has one slot and
// the newest change replaces an unreceived one. It is closed when Run returns.
func (w *Watcher) Changes() <-chan Change { return w.out }

// Stats returns the counters. Safe to call from any goroutine.
func (w *Watcher) Stats() Stats {
	s := &w.stats
	return Stats{
		Events: s.events.Load(), Checks: s.checks.Load(), Emitted: s.emitted.Load(),
		Coalesced: s.coalesced.Load(), Unchanged: s.unchanged.Load(), Missing: s.missing.Load(),
		Empty: s.empty.Load(), Refused: s.refused.Load(), Unstable: s.unstable.Load(), Errors: s.errors.Load(),
	}
}

// Rebase tells the watcher that the version now decided on has hash h (the
// consumer read the file itself, e.g. on SIGHUP). The watcher then compares
// the file with h rather than with what it last reported, and looks at the
// file again, so a content it never got to report is not missed. Safe to
// call from any goroutine; the newest call wins.
func (w *Watcher) Rebase(h string) {
	for {
		select {
		case w.rebase <- h:
			return
		default:
		}
		select {
		case <-w.rebase: // drop the older one
		default:
		}
	}
}

// phase of the pending look.
type phase int

const (
	idle    phase = iota
	waiting       // debouncing events
	probing       // first stat taken, waiting Stable for the second
)

// Run processes events until ctx is done, then closes the fsnotify watcher
// and the changes channel. It looks at the file once at start. It returns
// ctx's error.
func (w *Watcher) Run(ctx context.Context) error {
	defer close(w.out)
	defer w.fsw.Close()

	w.timer = time.NewTimer(0) // the initial look
	defer w.timer.Stop()
	w.ph, w.deadline, w.dirty = waiting, time.Now(), false

	var pollC <-chan time.Time
	if w.opts.Poll > 0 {
		poll := time.NewTicker(w.opts.Poll)
		defer poll.Stop()
		pollC = poll.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return ctx.Err()
			}
			w.onEvent(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return ctx.Err()
			}
			w.stats.errors.Add(1)
			// An overflow means events were lost: look anyway.
			w.opts.Logger.Warn("plugin watch error", "path", w.path, "err", err)
			w.onActivity()
		case h := <-w.rebase:
			w.last = h
			w.hashed = false // compare the content with h, not just the stat
			if w.ph == idle {
				w.schedule()
			}
		case <-pollC:
			if w.ph == idle && statID(w.path) != w.seen {
				w.schedule()
			}
		case <-w.timer.C:
			w.onTimer(ctx)
		}
	}
}

// onEvent handles one fsnotify event in the watched directories.
func (w *Watcher) onEvent(ev fsnotify.Event) {
	w.stats.events.Add(1)
	if w.concerns(ev.Name) {
		w.opts.Logger.Debug("plugin directory event", "path", w.path, "event", ev.String())
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// The kernel dropped the watch with the directory; only Poll
		// can notice it coming back, and the next look re-adds it.
		switch ev.Name {
		case w.dir:
			w.dirLost = true
		case w.target:
			w.target = ""
		}
	}
	w.onActivity()
}

// concerns reports whether an event's name is the plugin file, the file its
// symlink resolves to, or a watched directory. Events naming other files
// still cause a look (a Kubernetes ConfigMap flips a "..data" link the
// file resolves through) but are not logged one by one: the server's own
// log file may sit beside the plugin, and a debug line per write to it
// would be another write to it, without end.
func (w *Watcher) concerns(name string) bool {
	return name == w.path || name == w.dir || name == w.resolved || (w.target != "" && name == w.target)
}

// onActivity notes that the file may have changed: it (re)starts the
// debounce, or marks a probe in progress dirty.
func (w *Watcher) onActivity() {
	if w.ph == probing {
		w.dirty = true
	} else {
		w.schedule()
	}
}

// schedule (re)starts the debounce; the MaxDelay deadline is kept from
// the first event of the burst.
func (w *Watcher) schedule() {
	now := time.Now()
	if w.ph == idle {
		w.deadline = now.Add(w.opts.MaxDelay)
	}
	wait := min(w.opts.Debounce, max(0, w.deadline.Sub(now)))
	w.ph = waiting
	w.timer.Reset(wait)
}

// onTimer moves the pending look on: the debounce ended, so take the first
// stat; or Stable passed, so finish the look (again, if the file was still
// changing).
func (w *Watcher) onTimer(ctx context.Context) {
	switch w.ph {
	case waiting:
		w.probe, w.dirty = statID(w.path), false
		w.ph = probing
		w.timer.Reset(w.opts.Stable)
	case probing:
		if !w.look(ctx) {
			w.stats.unstable.Add(1)
			w.probe, w.dirty = statID(w.path), false
			w.timer.Reset(w.opts.Stable)
			return
		}
		w.ph = idle
		if w.dirty {
			w.dirty = false
			w.schedule()
		}
	}
}

// look finishes a look whose first stat is w.probe. It returns false when the
// file is still changing and must be looked at again.
func (w *Watcher) look(ctx context.Context) bool {
	w.stats.checks.Add(1)
	if w.dirLost && w.fsw.Add(w.dir) == nil {
		w.dirLost = false
	}
	w.followTarget()
	id := statID(w.path)
	if id != w.probe {
		return false
	}
	// Skip the read when nothing changed since a look that hashed this very
	// file, and its mtime was already old then: any write after that look
	// would carry a newer mtime even with a coarse filesystem clock. This
	// keeps a noisy directory from costing a hash per look.
	if w.hashed && id == w.seen && w.seenAt.Sub(id.mtime) > mtimeSettled {
		w.stats.unchanged.Add(1)
		return true
	}
	w.seen, w.seenAt, w.hashed = id, time.Now(), false
	switch {
	case id.err != nil:
		if !errors.Is(id.err, fs.ErrNotExist) {
			w.stats.errors.Add(1)
		}
		w.stats.missing.Add(1)
		if !w.missing {
			w.opts.Logger.Warn("plugin file unavailable; the current version keeps serving", "path", w.path, "err", id.err)
		}
		w.missing, w.empty, w.refused = true, false, ""
		return true
	case id.size == 0 && id.mode.IsRegular():
		w.stats.empty.Add(1)
		if !w.empty {
			w.opts.Logger.Warn("plugin file is empty; the current version keeps serving", "path", w.path)
		}
		w.missing, w.empty, w.refused = false, true, ""
		return true
	}
	w.missing, w.empty = false, false
	data, err := w.read(ctx)
	if err != nil {
		return !errors.Is(err, errRetry)
	}
	if after := statID(w.path); after != id || int64(len(data)) != id.size {
		return false
	}
	w.hashed = true
	hash := store.Hash(data)
	if hash == w.last {
		w.stats.unchanged.Add(1)
		return true
	}
	w.last = hash
	w.emit(ctx, Change{Path: w.path, Hash: hash, Data: data, ModTime: id.mtime, At: time.Now()})
	return true
}

// emit delivers c, replacing an unreceived older change. Run is the only
// sender, so after the drain the slot is free.
func (w *Watcher) emit(ctx context.Context, c Change) {
	select {
	case w.out <- c:
	default:
		select {
		case <-w.out:
			w.stats.coalesced.Add(1)
		default:
		}
		select {
		case w.out <- c:
		case <-ctx.Done():
			return
		}
	}
	w.stats.emitted.Add(1)
}

// followTarget also watches the directory of the symlink target of the file,
// so in-place writes to a target outside the watched directory are seen. It
// moves the extra watch when the target moves (a ConfigMap flip).
func (w *Watcher) followTarget() {
	resolved, err := filepath.EvalSymlinks(w.path)
	if err != nil {
		return
	}
	w.resolved = resolved
	dir := filepath.Dir(resolved)
	if dir == w.dir || dir == w.target {
		return
	}
	if w.target != "" {
		// The old target directory may be gone already (ConfigMap cleanup).
		_ = w.fsw.Remove(w.target)
		w.target = ""
	}
	if err := w.fsw.Add(dir); err != nil {
		w.stats.errors.Add(1)
		w.opts.Logger.Warn("watch plugin symlink target directory", "path", w.path, "dir", dir, "err", err)
		return
	}
	w.target = dir
}

// fileID identifies the state of the file as far as stat can tell.
type fileID struct {
	size  int64
	mode  fs.FileMode
	mtime time.Time
	ino   uint64
	dev   uint64
	err   error
}

func statID(path string) fileID {
	st, err := os.Stat(path) // follows symlinks: we care about the content
	if err != nil {
		// Keep only the comparable errno, so two looks at a missing file agree.
		e := errors.Unwrap(err)
		if e == nil {
			e = err
		}
		return fileID{err: e}
	}
	dev, ino := inode(st)
	return fileID{size: st.Size(), mode: st.Mode(), mtime: st.ModTime(), ino: ino, dev: dev}
}
