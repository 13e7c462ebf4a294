package tlscert

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions tune a Watcher. OnChange is required.
type WatchOptions struct {
	// OnChange receives a new set that passed Parse, once per content.
	OnChange func(pems []PEM)

	// OnRefuse receives why a new content was refused, once per content
	// (and on every Check); the serving set stays. Defaults to a log line.
	OnRefuse func(err error)

	// Debounce is how long the directories must stay quiet before the
	// files are read: a renewal replaces the certificate and the key one
	// after the other. Defaults to 250ms.
	Debounce time.Duration

	// Poll is the interval of a stat-only safety net (a file written in
	// place through a symlink whose target lives elsewhere). Defaults to
	// 2s; negative disables it.
	Poll time.Duration

	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Watcher reloads a set of pairs when their files change.
type Watcher struct {
	pairs []Pair
	opts  WatchOptions

	mu      sync.Mutex // one check at a time; guards the fields below
	serving [32]byte   // hash of the serving set
	refused [32]byte   // hash of the last refused content
	stats   string     // fingerprint of the files' stats at the last look
}

// NewWatcher returns a watcher of pairs whose serving content is current.
func NewWatcher(pairs []Pair, current []PEM, opts WatchOptions) *Watcher {
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.Poll == 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OnRefuse == nil {
		log := opts.Logger
		opts.OnRefuse = func(err error) {
			log.Error("new TLS certificate refused; the serving one stays", "err", err)
		}
	}
	w := &Watcher{pairs: pairs, opts: opts, serving: hash(current)}
	w.stats = w.fingerprint()
	return w
}

// Run watches until ctx ends. Without fsnotify (no inotify instances
// left) it still polls, and says so.
func (w *Watcher) Run(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		w.opts.Logger.Warn("TLS certificate files: no file events; polling only", "err", err)
	} else {
		defer fw.Close()
		for _, dir := range w.dirs() {
			if err := fw.Add(dir); err != nil {
				w.opts.Logger.Warn("TLS certificate directory not watched; polling it", "dir", dir, "err", err)
			}
		}
		events, errs = fw.Events, fw.Errors
	}
	var poll <-chan time.Time
	if w.opts.Poll > 0 {
		t := time.NewTicker(w.opts.Poll)
		defer t.Stop()
		poll = t.C
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			debounce.Reset(w.opts.Debounce)
		case err := <-errs:
			w.opts.Logger.Warn("TLS certificate watch", "err", err)
		case <-poll:
			if w.statsChanged() {
				debounce.Reset(w.opts.Debounce)
			}
		case <-debounce.C:
			w.check(false)
		}
	}
}

// dirs are the directories to watch: each file's own, and the directory
// of what a symlink points to (certbot's live/ links into archive/).
func (w *Watcher) dirs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, p := range w.pairs {
		for _, f := range []string{p.Cert, p.Key} {
			add(filepath.Dir(f))
			if t, err := filepath.EvalSymlinks(f); err == nil {
				add(filepath.Dir(t))
			}
		}
	}
	return out
}

// fingerprint is every file's size, mtime and inode, through symlinks.
func (w *Watcher) fingerprint() string {
	var s string
	for _, p := range w.pairs {
		for _, f := range []string{p.Cert, p.Key} {
			st, err := os.Stat(f)
			if err != nil {
				s += "missing;"
				continue
			}
			s += fmt.Sprintf("%d:%d:%v;", st.Size(), st.ModTime().UnixNano(), inode(st))
		}
	}
	return s
}

func (w *Watcher) statsChanged() bool {
	fp := w.fingerprint()
	w.mu.Lock()
	defer w.mu.Unlock()
	if fp == w.stats {
		return false
	}
	w.stats = fp
	return true
}

// Check reads the files now (reload, SIGHUP) and reports whether a new set
// was handed to OnChange; a refusal is reported again even when the
// content is the one refused before.
func (w *Watcher) Check() (changed bool, err error) { return w.check(true) }

func (w *Watcher) check(asked bool) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats = w.fingerprint()
	pems, err := Read(w.pairs)
	if err != nil {
		// The same refusal (error and bytes) is not repeated unless asked.
		h := w.refusalID(err)
		if asked || h != w.refused {
			w.refused = h
			w.opts.OnRefuse(err)
		}
		return false, err
	}
	h := hash(pems)
	if h == w.serving {
		return false, nil
	}
	w.serving, w.refused = h, [32]byte{}
	w.opts.OnChange(pems)
	return true, nil
}

// refusalID identifies a refused content: the error and the bytes of the
// files that could be read.
func (w *Watcher) refusalID(err error) [32]byte {
	h := sha256.New()
	h.Write([]byte(err.Error()))
	for _, p := range w.pairs {
		for _, f := range []string{p.Cert, p.Key} {
			b, _ := os.ReadFile(f)
			h.Write(b)
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
