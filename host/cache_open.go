package host

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/wasmcluster/wasmcluster/internal/fsfail"
)

// openCache readies the version's cache directory for wazero: every
// directory and entry private to the server's user (else ErrUnsafeCache),
// every entry matching its record; an entry that does not is removed, so it
// is never loaded. It returns the entries verified (non-nil, maybe empty),
// or nil when the cache cannot be used: none is configured, or the
// filesystem refuses writes (then the module compiles in memory).
func (p *Plugin) openCache() (verified map[string]bool, err error) {
	if p.cfg.CacheDir == "" {
		return nil, nil
	}
	uid := os.Geteuid()
	if err := ensureDir(p.cfg.CacheDir, uid, true); err != nil {
		return nil, p.cacheUnusable(err)
	}
	if err := ensureDir(p.cacheDir(), uid, false); err != nil {
		return nil, p.cacheUnusable(err)
	}
	entries, err := cacheEntries(p.cacheDir(), uid)
	if err != nil {
		return nil, p.cacheUnusable(err)
	}
	verified = make(map[string]bool, len(entries))
	for _, e := range entries {
		reason, err := verifyEntry(e, p.hash, uid)
		if errors.Is(err, fs.ErrNotExist) {
			err = removeEntry(e) // removed meanwhile by another load: make sure it stays so
			if err == nil {
				continue
			}
		}
		if err != nil {
			return nil, p.cacheUnusable(err)
		}
		if reason == "" {
			verified[e] = true
			continue
		}
		p.log.Warn("compilation cache entry does not match the module it is stored for; removing it and recompiling",
			slog.String("entry", e), slog.String("reason", reason))
		if err := removeEntry(e); err != nil {
			// Never load it: without the cache, wazero cannot.
			return nil, p.cacheUnusable(err)
		}
	}
	return verified, nil
}

// cacheUnusable returns err when it makes the load fail: an unsafe cache,
// or an error that is not the filesystem refusing a write. A refused
// write only means compiling in memory.
func (p *Plugin) cacheUnusable(err error) error {
	if errors.Is(err, ErrUnsafeCache) || !fsfail.Write(err) {
		return err
	}
	p.cacheUnwritable(err)
	return nil
}

// unwritableCaches holds the cache dirs whose last write failed, so that an
// outage (a full disk) is warned about once per directory and process, not
// on every load. A successful write removes the directory.
var unwritableCaches sync.Map

func (p *Plugin) cacheUnwritable(err error) {
	if _, warned := unwritableCaches.LoadOrStore(p.cfg.CacheDir, true); warned {
		p.log.Debug("compilation cache still cannot write; compiling in memory", slog.Any("err", err))
		return
	}
	p.log.Warn("compilation cache: cannot write compiled code; compiling in memory until it can (loads are slower)",
		slog.String("cache_dir", p.cfg.CacheDir), slog.Any("err", err))
}

// recordEntries records the entries wazero just wrote (any entry not
// verified before the compile), so that later loads may use them. It runs
// once the module compiled, even if initializing it then fails: the code
// is the module's all the same. An entry left
// unrecorded is removed and rewritten by the next load.
func (p *Plugin) recordEntries(verified map[string]bool) {
	entries, err := cacheEntries(p.cacheDir(), os.Geteuid())
	if err != nil {
		p.log.Warn("compilation cache: cannot list the entries just written", slog.Any("err", err))
		return
	}
	wrote := false
	for _, e := range entries {
		if verified[e] {
			continue
		}
		if err := writeRecord(e, p.hash); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile by another load
			}
			if fsfail.Write(err) {
				p.cacheUnwritable(err)
			} else {
				p.log.Warn("compilation cache: cannot record an entry; the next load recompiles it", slog.Any("err", err))
			}
			return
		}
		wrote = true
	}
	if wrote {
		unwritableCaches.Delete(p.cfg.CacheDir)
	}
}
