package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/plugins/store"
	"github.com/wasmcluster/wasmcluster/plugins/watch"
)

// Version is an accepted plugin version: what workers load.
type Version struct {
	Hash       string    // hex SHA-256 of the bytes
	Path       string    // snapshot file to load; never the watched path
	Size       int64     // bytes
	AcceptedAt time.Time // when preflight accepted it
}

// Short is the hash prefix shown in status and logs.
func (v Version) Short() string { return digest.Short(v.Hash) }

// Trigger says what made the Manager look at the file.
type Trigger string

const (
	TriggerInitial Trigger = "initial" // Load
	TriggerWatch   Trigger = "watch"   // the file watcher
	TriggerReload  Trigger = "reload"  // Reload (SIGHUP, `wasmcluster reload`)
)

// Event is the outcome of looking at one content of the plugin file.
type Event struct {
	Hash     string        // hex SHA-256 of the content; empty if it could not be read
	Version  Version       // the accepted version; zero when Err != nil
	Err      error         // why the content was refused (text fit for status); nil when accepted
	Trigger  Trigger       // what caused the look
	At       time.Time     // when the outcome was decided
	Duration time.Duration // snapshot + preflight time
}

// Accepted reports whether Version may be rolled out.
func (e Event) Accepted() bool { return e.Err == nil }

// Options tunes a Manager. StoreDir is required.
type Options struct {
	// StoreDir is the snapshot directory. StoreDirFor names one per plugin
	// path inside a root, so two primaries serving different plugins never
	// prune each other's snapshots.
	StoreDir string

	// SpareStoreDir, if set, names where snapshots go once StoreDir
	// refuses a write (a full or read-only disk): the snapshot is a copy
	// for safety, not a reason to stop deploying. It is called at most
	// once; the caller removes that directory when done.
	SpareStoreDir func() (string, error)

	// Rules refuse plugin files that are not regular, too large, or
	// replaceable by other users, at Load, Reload and on every change
	// the watcher sees (Watch.Rules is set from it).
	Rules watch.Rules

	// KeepSnapshots is how many of the newest snapshots Prune keeps besides
	// those in use. Defaults to 3.
	KeepSnapshots int

	// Watch tunes the file watcher. Its Baseline is set by the Manager.
	Watch watch.Options

	// Preflight tunes the check run on every new content. Its Host config
	// must be the one workers use (see preflight.Options).
	Preflight preflight.Options

	// OnStage, if set, is called with each new content's version once its
	// snapshot is stored, before its preflight starts, and with what made
	// the Manager look: a primary may start loading the snapshot (held
	// back, not serving) while it is checked. It must not block.
	OnStage func(v Version, trig Trigger)

	// Logger receives one line per decision (accepted, refused, ignored).
	// Consumers of Events need not log them again. Defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultKeepSnapshots is the KeepSnapshots used when it is zero.
const DefaultKeepSnapshots = 3

// Stats counts the Manager's decisions. Counters only grow.
type Stats struct {
	Changes  uint64 // contents decided on (watch, reload and initial)
	Accepted uint64 // contents accepted by preflight
	Refused  uint64 // contents refused by preflight
	Errors   uint64 // looks that failed for reasons other than the plugin (file unreadable, snapshot I/O)
	// Superseded counts checks abandoned because a newer content arrived.
	Superseded uint64

	Checking    string  // hash of the content being checked now, "" if none
	Current     Version // last accepted version (zero before the first)
	LastRefusal *Event  // last refused content, nil if none
	LastEvent   *Event  // last decision of any kind, nil if none

	Watch watch.Stats // the watcher's counters (zero when Run is not running)
}

// Manager turns changes of one plugin file into Events. Create it with New.
// Its methods are safe for concurrent use.
type Manager struct {
	path   string
	opts   Options
	store  atomic.Pointer[store.Store] // StoreDir's, or the spare once it refused a write
	spare  sync.Once
	log    *slog.Logger
	events chan Event

	running atomic.Bool
	watcher atomic.Pointer[watch.Watcher]

	// decideMu serializes decisions (a preflight can take seconds); mu only
	// guards the fields below, so Stats never waits for a preflight.
	decideMu    sync.Mutex
	mu          sync.Mutex
	last        string // hash of the last content decided (accepted or not)
	current     Version
	lastRefusal *Event
	lastEvent   *Event
	changes     uint64
	accepted    uint64
	refused     uint64
	superseded  uint64
	errs        uint64
	checking    string // hash under preflight now
}

// New prepares a Manager for the plugin at path and opens its snapshot
// store. It does not read the plugin; call Load.
func New(path string, opts Options) (*Manager, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	if opts.KeepSnapshots <= 0 {
		opts.KeepSnapshots = DefaultKeepSnapshots
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Watch.Logger == nil {
		opts.Watch.Logger = opts.Logger
	}
	if opts.Preflight.Host.Name == "" {
		opts.Preflight.Host.Name = filepath.Base(abs)
	}
	if opts.StoreDir == "" {
		return nil, fmt.Errorf("plugin %s: plugins.Options.StoreDir is empty", abs)
	}
	opts.Watch.Rules = opts.Rules
	st, err := store.Open(opts.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", abs, err)
	}
	m := &Manager{
		path:   abs,
		opts:   opts,
		log:    opts.Logger.With(slog.String("plugin", abs)),
		events: make(chan Event),
	}
	m.store.Store(st)
	return m, nil
}

// Path returns the absolute path of the watched plugin file.
func (m *Manager) Path() string { return m.path }

// StoreDir returns the snapshot directory.
func (m *Manager) StoreDir() string { return m.store.Load().Dir() }

// Events delivers one Event per new content seen by Run. It is unbuffered:
// receive promptly. While nobody receives, Run waits and the watcher keeps
// only the newest file content, so a slow consumer gets the latest version
// next, never a backlog. Reload's result is returned, not sent here.
func (m *Manager) Events() <-chan Event { return m.events }

// Load reads the plugin file and decides on its content: the version to
// start with. It returns an error when the file cannot be read, is empty, or
// is refused; a primary should then refuse to start.
func (m *Manager) Load(ctx context.Context) (Version, error) {
	ev, err := m.lookNow(ctx, TriggerInitial)
	if err != nil {
		return Version{}, err
	}
	if !ev.Accepted() {
		return Version{}, ev.Err
	}
	return ev.Version, nil
}

// Reload reads the plugin file now and decides on it, as the watcher would;
// use it for SIGHUP and `wasmcluster reload`. The content already accepted
// last is not checked again. The returned Event is not sent on Events; an
// Event with Err set means nothing should be rolled (the error says why: the
// file is unreadable or empty, or preflight refused it).
func (m *Manager) Reload(ctx context.Context) Event {
	ev, err := m.lookNow(ctx, TriggerReload)
	if err != nil {
		return Event{Err: err, Trigger: TriggerReload, At: time.Now()}
	}
	// The watcher may not have seen this content (it can change again
	// before the watcher looks): make it compare with what was decided.
	if w := m.watcher.Load(); w != nil && m.running.Load() {
		w.Rebase(ev.Hash)
	}
	return ev
}

// lookNow reads the file and decides. Errors are about the file or ctx,
// not the plugin.
func (m *Manager) lookNow(ctx context.Context, trig Trigger) (Event, error) {
	data, err := m.readPlugin(ctx)
	if err != nil {
		return Event{}, err
	}
	hash := store.Hash(data)
	m.decideMu.Lock()
	defer m.decideMu.Unlock()
	m.mu.Lock()
	current := m.current
	m.mu.Unlock()
	if trig == TriggerReload && hash == current.Hash {
		// The current version's own snapshot, wherever it is: the store
		// may have moved to the spare since it was accepted.
		if _, err := os.Stat(current.Path); err == nil {
			m.log.Info("plugin unchanged; already accepted", slog.String("version", digest.Short(hash)), slog.String("trigger", string(trig)))
			return Event{Hash: hash, Version: current, Trigger: trig, At: time.Now()}, nil
		}
	}
	return m.decide(ctx, data, hash, trig)
}

// decide snapshots and preflights one content. Called with m.decideMu held.
// It returns an error only when ctx ended (no decision was made).
func (m *Manager) decide(ctx context.Context, data []byte, hash string, trig Trigger) (Event, error) {
	start := time.Now()
	m.mu.Lock()
	m.checking = hash
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.checking = ""
		m.mu.Unlock()
	}()
	ev := Event{Hash: hash, Trigger: trig}
	log := m.log.With(slog.String("version", digest.Short(hash)), slog.String("trigger", string(trig)), slog.Int("size", len(data)))

	snap, err := m.snapshot(data, hash)
	if err != nil {
		ev.Err = fmt.Errorf("store snapshot: %w", err)
		ev.At, ev.Duration = time.Now(), time.Since(start)
		m.mu.Lock()
		m.errs++
		m.record(&ev)
		m.mu.Unlock()
		log.Error("plugin not accepted: cannot snapshot it", slog.Any("err", err))
		return ev, nil
	}
	if m.opts.OnStage != nil {
		m.opts.OnStage(Version{Hash: hash, Path: snap.Path, Size: snap.Size}, trig)
	}
	err = preflight.Check(ctx, data, m.opts.Preflight)
	ev.At, ev.Duration = time.Now(), time.Since(start)
	if err != nil && !preflight.IsRefusal(err) {
		// Interrupted (superseded or shutting down): no decision.
		if snap.Created {
			_ = os.Remove(snap.Path)
		}
		return Event{}, err
	}
	if err != nil {
		ev.Err = err
		m.mu.Lock()
		m.refused++
		m.record(&ev)
		m.mu.Unlock()
		// A refused version is never loaded: do not let it take a Prune slot
		// from a good one. A snapshot stored before (accepted earlier, maybe
		// still running or the revert target) stays.
		if snap.Created {
			_ = os.Remove(snap.Path)
		}
		log.Warn("plugin refused; the current version keeps serving", slog.Any("err", err), slog.Duration("took", ev.Duration))
		return ev, nil
	}
	ev.Version = Version{Hash: hash, Path: snap.Path, Size: snap.Size, AcceptedAt: ev.At}
	m.mu.Lock()
	m.accepted++
	m.current = ev.Version
	m.record(&ev)
	m.mu.Unlock()
	log.Info("plugin accepted", slog.String("snapshot", snap.Path), slog.Duration("took", ev.Duration))
	return ev, nil
}

// record notes ev as the last decision. Called with m.mu held.
func (m *Manager) record(ev *Event) {
	m.changes++
	m.last = ev.Hash
	e := *ev
	m.lastEvent = &e
	if ev.Err != nil {
		m.lastRefusal = &e
	}
}

// Run watches the plugin file until ctx is done, sending an Event on Events
// for every new content. The content decided last (by Load, Reload or Run)
// is not reported again. It returns ctx's error, or an error if the watch
// cannot start (e.g. the directory does not exist). Run at most once at a
// time.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("plugins: Manager.Run is already running")
	}
	defer m.running.Store(false)
	w, stop, err := m.startWatch(ctx)
	if err != nil {
		return err
	}
	defer stop()

	var c watch.Change
	for {
		if c.Data == nil {
			var ok bool
			if c, ok = nextChange(ctx, w); !ok {
				return ctx.Err()
			}
		}
		d, newer, ok := m.check(ctx, w, c)
		if d.decided {
			if err := m.deliver(ctx, d.ev); err != nil {
				return err
			}
		}
		if !ok {
			return ctx.Err()
		}
		c = newer
	}
}

// startWatch starts a watcher that reports contents other than the one
// decided last; stop ends it and waits for its goroutine.
func (m *Manager) startWatch(ctx context.Context) (w *watch.Watcher, stop func(), err error) {
	wopts := m.opts.Watch
	m.mu.Lock()
	wopts.Baseline = m.last
	m.mu.Unlock()
	w, err = watch.New(m.path, wopts)
	if err != nil {
		return nil, nil, fmt.Errorf("plugins: %w", err)
	}
	m.watcher.Store(w)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(wctx)
	}()
	return w, func() { cancel(); <-done }, nil
}

// nextChange waits for the watcher's next change; ok is false once ctx is
// done or the watcher stopped.
func nextChange(ctx context.Context, w *watch.Watcher) (c watch.Change, ok bool) {
	select {
	case <-ctx.Done():
		return watch.Change{}, false
	case c, ok = <-w.Changes():
		return c, ok
	}
}

// check decides on c in the background so a newer change can supersede
// it: a storm of writes, or a fix written while a broken version hangs in
// preflight, does not wait for a stale check. It returns the decision to
// deliver (d.decided false when there is none) and the change that
// superseded c (zero when c's check ran to its end); ok is false when Run
// must return after delivering d.
func (m *Manager) check(ctx context.Context, w *watch.Watcher, c watch.Change) (d decision, newer watch.Change, ok bool) {
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	res := make(chan decision, 1)
	go func() { res <- m.decideChange(dctx, c) }()
	select {
	case d = <-res:
		return d, watch.Change{}, true
	case newer, ok = <-w.Changes():
		dcancel()
		// A check that finished just before the cancel is still delivered,
		// so an accepted version is never recorded but unreported.
		if d = <-res; !d.decided && d.err != nil {
			m.mu.Lock()
			m.superseded++
			m.mu.Unlock()
			m.log.Info("plugin check superseded by a newer file content", slog.String("version", digest.Short(c.Hash)), slog.String("newer", digest.Short(newer.Hash)))
		}
		return d, newer, ok
	case <-ctx.Done():
		dcancel()
		<-res
		return decision{}, watch.Change{}, false
	}
}

// deliver sends ev on Events unless ctx ends first.
func (m *Manager) deliver(ctx context.Context, ev Event) error {
	select {
	case m.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type decision struct {
	ev      Event
	decided bool
	err     error
}

// decideChange decides on a change unless its content was the last decided
// (by Reload, typically).
func (m *Manager) decideChange(ctx context.Context, c watch.Change) decision {
	m.decideMu.Lock()
	defer m.decideMu.Unlock()
	m.mu.Lock()
	decided := c.Hash == m.last
	m.mu.Unlock()
	if decided {
		return decision{}
	}
	ev, err := m.decide(ctx, c.Data, c.Hash, TriggerWatch)
	return decision{ev: ev, decided: err == nil, err: err}
}

// Prune removes snapshots beyond the newest KeepSnapshots, keeping inUse
// (hashes workers run, and the version to revert to) and the current
// version. Call it after a roll. It returns the hashes removed.
func (m *Manager) Prune(inUse ...string) ([]string, error) {
	m.mu.Lock()
	keep := append([]string{m.current.Hash}, inUse...)
	m.mu.Unlock()
	removed, err := m.store.Load().Prune(m.opts.KeepSnapshots, keep...)
	if err != nil {
		return removed, fmt.Errorf("plugins: %w", err)
	}
	return removed, nil
}

// Stats returns the counters and the last decisions.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	s := Stats{
		Changes: m.changes, Accepted: m.accepted, Refused: m.refused, Errors: m.errs, Superseded: m.superseded, Checking: m.checking,
		Current: m.current, LastRefusal: m.lastRefusal, LastEvent: m.lastEvent,
	}
	m.mu.Unlock()
	if w := m.watcher.Load(); w != nil {
		s.Watch = w.Stats()
	}
	return s
}

// ReadSnapshot reads a snapshot file for loading, refusing one whose content
// no longer matches its hash name. Workers load plugins with it.
func ReadSnapshot(path string) ([]byte, error) { return store.ReadFile(path) }
