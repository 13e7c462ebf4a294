package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
)

// Ext is the file extension of every snapshot.
const Ext = ".wasm"

// tmpPrefix marks files being written; Prune removes stale ones.
const tmpPrefix = ".tmp-"

// staleTmp is how old a temporary file must be before Prune treats it as
// left behind by a crashed writer rather than a write in progress.
const staleTmp = time.Minute

// Snapshot is one stored version of a plugin.
type Snapshot struct {
	Hash    string    // hex SHA-256 of the bytes
	Path    string    // absolute path of the snapshot file; load this
	Size    int64     // bytes
	ModTime time.Time // last time it was stored (Put refreshes it)
	Created bool      // set by Put when it wrote the file (it was not stored before)
}

// Store is a content-addressed snapshot directory. Its methods are safe for
// concurrent use by goroutines of one process; several processes may share a
// directory because every write is an atomic rename.
type Store struct {
	dir string
}

// Open returns the store rooted at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	return &Store{dir: abs}, nil
}

// Dir returns the store's absolute directory.
func (s *Store) Dir() string { return s.dir }

// Hash returns the hex SHA-256 of data, the name snapshots are stored under.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Path returns where the snapshot of hash lives (whether or not it exists).
func (s *Store) Path(hash string) string {
	return filepath.Join(s.dir, hash+Ext)
}

// Put stores data and returns its snapshot. Bytes already stored are not
// rewritten unless the stored copy is damaged (its content no longer matches
// its name); their modification time is refreshed so Prune counts them as
// recent.
func (s *Store) Put(data []byte) (Snapshot, error) {
	return s.PutHashed(data, Hash(data))
}

// PutHashed is Put for a caller that hashed data already (hash must be
// Hash(data)).
func (s *Store) PutHashed(data []byte, hash string) (Snapshot, error) {
	path := s.Path(hash)
	if sameContent(path, data) {
		now := time.Now()
		if err := os.Chtimes(path, now, now); err != nil {
			return Snapshot{}, fmt.Errorf("snapshot %s: refresh: %w", digest.Short(hash), err)
		}
		return Snapshot{Hash: hash, Path: path, Size: int64(len(data)), ModTime: now}, nil
	}
	if err := s.writeAtomic(path, data); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", digest.Short(hash), err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", digest.Short(hash), err)
	}
	return Snapshot{Hash: hash, Path: path, Size: st.Size(), ModTime: st.ModTime(), Created: true}, nil
}

// sameContent reports whether the file at path holds exactly data. It
// compares in chunks: reading a whole copy would fault in a fresh buffer
// the size of the plugin on every start.
func sameContent(path string, data []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != int64(len(data)) {
		return false
	}
	buf := make([]byte, 64<<10)
	for off := 0; off < len(data); {
		n, err := io.ReadFull(f, buf[:min(len(buf), len(data)-off)])
		if !bytes.Equal(buf[:n], data[off:off+n]) {
			return false
		}
		off += n
		if err != nil {
			return off == len(data)
		}
	}
	return true
}

// writeAtomic writes data to path through an fsynced temporary file and a
// rename, then fsyncs the directory so the rename itself is durable.
func (s *Store) writeAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("create temp: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	// Read-only: a snapshot is immutable; this catches accidental writers.
	if err := tmp.Chmod(0o444); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// Get returns the snapshot of hash, or an error wrapping fs.ErrNotExist.
func (s *Store) Get(hash string) (Snapshot, error) {
	if !validHash(hash) {
		return Snapshot{}, fmt.Errorf("snapshot %q: not a sha256 hex digest: %w", hash, fs.ErrNotExist)
	}
	path := s.Path(hash)
	st, err := os.Stat(path)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: %w", digest.Short(hash), err)
	}
	return Snapshot{Hash: hash, Path: path, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// List returns the stored snapshots, newest first.
func (s *Store) List() ([]Snapshot, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []Snapshot
	for _, e := range entries {
		hash, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok || !validHash(hash) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned concurrently
		}
		if err != nil {
			return nil, fmt.Errorf("list snapshots: %w", err)
		}
		out = append(out, Snapshot{Hash: hash, Path: filepath.Join(s.dir, e.Name()), Size: info.Size(), ModTime: info.ModTime()})
	}
	slices.SortFunc(out, func(a, b Snapshot) int {
		if c := b.ModTime.Compare(a.ModTime); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
	return out, nil
}

// Prune removes snapshots beyond the newest keepLast, except those whose hash
// is in keep (versions still loaded by a worker, or the rollback target). It
// also removes temporary files abandoned by a crashed writer. It returns the
// hashes removed.
func (s *Store) Prune(keepLast int, keep ...string) ([]string, error) {
	snaps, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for i, snap := range snaps {
		if i < keepLast || slices.Contains(keep, snap.Hash) {
			continue
		}
		if err := os.Remove(snap.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("prune snapshot %s: %w", digest.Short(snap.Hash), err))
			continue
		}
		removed = append(removed, snap.Hash)
	}
	errs = append(errs, s.removeStaleTemps())
	return removed, errors.Join(errs...)
}

func (s *Store) removeStaleTemps() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("prune temporaries: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleTmp {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("prune temporary %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// ReadFile reads a snapshot and, when its file name is a hash, checks that
// the content still matches it, so a damaged snapshot is refused instead of
// loaded. Workers should load snapshots with it.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	want, ok := strings.CutSuffix(filepath.Base(path), Ext)
	if ok && validHash(want) {
		if got := Hash(data); got != want {
			return nil, fmt.Errorf("read snapshot %s: content hash is %s: %w", path, digest.Short(got), ErrCorrupt)
		}
	}
	return data, nil
}

// ErrCorrupt reports a snapshot whose content does not match its name.
var ErrCorrupt = errors.New("snapshot corrupt")

func validHash(h string) bool {
	if len(h) != sha256.Size*2 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
