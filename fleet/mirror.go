package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Mirror keeps a local file equal to the source's object: the file the
// plugin watcher watches. It also keeps the last version this instance
// accepted, served when NATS is away at start.
type Mirror struct {
	conn *Conn
	dir  string
	log  *slog.Logger

	syncMu  sync.Mutex // held by sync
	fetched string     // the version sync fetched last (under syncMu)
	mu      sync.Mutex
	hash    string // of the bytes in File
	data    []byte
	id      string  // this instance in the fleet view (InstanceID)
	canary  *Canary // the canary in progress, nil when none

	// Roll slots (slots.go): the one held while this instance rolls, the
	// version waiting for one, and whether slots are ignored.
	held    *hold
	waiting string
	noSlots bool
	running func() (version string, rolling bool)

	// The version in accepted.wasm and the one before, which a crash-loop
	// revert puts back there.
	accHash, prevHash string
	prevData          []byte
}

// NewMirror mirrors conn's source into dir (created 0700: the plugin
// rules refuse a file others could replace).
func NewMirror(conn *Conn, dir string, log *slog.Logger) (*Mirror, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fleet mirror directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fleet mirror directory: %w", err)
	}
	return &Mirror{conn: conn, dir: dir, log: log, id: InstanceID()}, nil
}

// DirFor is the mirror directory of src under root (the cache directory)
// for the instance listening on listen: one per source and instance, so
// two instances on one machine do not write one file, and stable across
// restarts so the last accepted version is found again.
func DirFor(root string, src Source, listen string) string {
	sum := sha256.Sum256([]byte(src.String() + "\x00" + listen))
	return filepath.Join(root, "fleet", hex.EncodeToString(sum[:8]))
}

// File is the mirrored plugin file.
func (m *Mirror) File() string { return filepath.Join(m.dir, m.conn.Src.Name+".wasm") }

func (m *Mirror) acceptedFile() string { return filepath.Join(m.dir, "accepted.wasm") }

// Start fills File: with the object now, or, when it cannot be fetched
// within wait, with the last accepted version (logged as such). With
// neither it fails, saying so.
func (m *Mirror) Start(ctx context.Context, wait time.Duration) error {
	var err error
	if m.conn.WaitConnected(ctx, wait) {
		var data []byte
		var hash string
		if data, hash, err = m.conn.Fetch(ctx, m.conn.Src.Name); err == nil {
			return m.write(data, hash)
		}
	} else {
		err = fmt.Errorf("%s: %w (waited %s)", m.conn.Src, ErrUnreachable, wait)
	}
	data, rerr := os.ReadFile(m.acceptedFile())
	if rerr != nil {
		return fmt.Errorf("%w; and no version of it was accepted on this machine before (none in %s)", err, m.dir)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	m.log.Warn("plugin source unavailable: serving the last version accepted on this machine; watching for the source to come back",
		"source", m.conn.Src.String(), "sha256", hash, "err", err)
	return m.write(data, hash)
}

// FallBack replaces File with the last version this instance accepted,
// when there is one other than File's: for a start whose published version
// the check refuses. It reports whether it did.
func (m *Mirror) FallBack() bool {
	data, err := os.ReadFile(m.acceptedFile())
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if hash == m.current() {
		return false
	}
	m.log.Warn("the published version is refused here: serving the last version accepted on this machine",
		"source", m.conn.Src.String(), "sha256", hash, "refused", m.current())
	return m.write(data, hash) == nil
}

// Accepted records that hash passed this instance's check: when File
// holds it, it becomes the version served if NATS is away at the next
// start.
func (m *Mirror) Accepted(hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if hash != m.hash || hash == m.accHash {
		return
	}
	prev, _ := os.ReadFile(m.acceptedFile())
	if err := writeAtomic(m.acceptedFile(), m.data); err != nil {
		m.log.Warn("fleet: keep the accepted version", "err", err)
		return
	}
	sum := sha256.Sum256(prev)
	m.prevHash, m.prevData = hex.EncodeToString(sum[:]), prev
	m.accHash = hash
}

// Reverted tells the Mirror this instance went back from version from to
// version to (from crash-looped, or its roll failed): the version served
// when NATS is away at the next start goes back to to as well, when the
// Mirror has its bytes.
func (m *Mirror) Reverted(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.accHash != from || m.prevHash != to || m.prevData == nil {
		return
	}
	if err := writeAtomic(m.acceptedFile(), m.prevData); err != nil {
		m.log.Warn("fleet: keep the accepted version", "err", err)
		return
	}
	m.accHash, m.prevHash, m.prevData = to, "", nil
}

// write replaces File with data, atomically.
func (m *Mirror) write(data []byte, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := writeAtomic(m.File(), data); err != nil {
		return err
	}
	m.hash, m.data = hash, data
	return nil
}

func (m *Mirror) current() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hash
}

// Run watches the object until ctx ends, writing every new version into
// File (the plugin watcher takes it from there). While NATS is away it
// retries; when NATS comes back the watch starts with the object's
// current version, so a version published meanwhile is picked up.
func (m *Mirror) Run(ctx context.Context) {
	defer m.release("") // a stop mid-roll frees the slot now, not after its TTL
	done := make(chan struct{})
	defer func() { <-done }()
	go func() { m.resyncLoop(ctx); close(done) }()
	for ctx.Err() == nil {
		err := m.watchOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		m.log.Debug("fleet: watch ended; retrying", "source", m.conn.Src.String(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (m *Mirror) watchOnce(ctx context.Context) error {
	if !m.conn.WaitConnected(ctx, time.Hour) {
		return ctx.Err()
	}
	octx, cancel := m.conn.op(ctx)
	obs, err := m.conn.objects(octx, false)
	var kvb jetstream.KeyValue
	if err == nil {
		kvb, err = m.conn.kvBucket(octx, m.conn.Src.versionsBucket(), 0)
	}
	cancel()
	if err != nil {
		return err
	}
	w, err := obs.Watch(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	cw, err := kvb.Watch(ctx, m.conn.Src.canaryKey())
	if err != nil {
		return err
	}
	defer cw.Stop()
	return m.follow(ctx, w.Updates(), cw.Updates())
}

// follow fetches a new version whenever the object or the canary changes.
func (m *Mirror) follow(ctx context.Context, objs <-chan *jetstream.ObjectInfo, canary <-chan jetstream.KeyValueEntry) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if !m.conn.Connected() {
				return ErrUnreachable // a fresh watch once it is back
			}
		case info, ok := <-objs:
			if !ok {
				return errors.New("watch closed")
			}
			if info != nil && info.Name == m.conn.Src.Name && !info.Deleted {
				m.sync(ctx)
			}
		case e, ok := <-canary:
			if !ok {
				return errors.New("canary watch closed")
			}
			if e != nil {
				m.setCanary(e)
				m.sync(ctx)
			}
		}
	}
}

func (m *Mirror) setCanary(e jetstream.KeyValueEntry) {
	var c *Canary
	if e.Operation() == jetstream.KeyValuePut {
		c = new(Canary)
		if json.Unmarshal(e.Value(), c) != nil {
			c = nil
		}
	}
	m.mu.Lock()
	m.canary = c
	m.mu.Unlock()
}

// sync fetches the version this instance should run: a canary's when it is
// one, else the object's. A version published with --max-unavailable K
// is written only once this instance holds one of K roll slots (canaries
// roll at once: the publisher chose them).
func (m *Mirror) sync(ctx context.Context) {
	m.syncMu.Lock() // the watch and resync: one fetch and write at a time, in order
	defer m.syncMu.Unlock()
	name := m.followed()
	m.mu.Lock()
	noSlots := m.noSlots
	m.mu.Unlock()
	data, hash, info, err := m.conn.fetch(ctx, name)
	if err != nil {
		m.log.Warn("fleet: fetch the new version", "source", m.conn.Src.String(), "object", name, "err", err)
		return
	}
	if hash == m.current() {
		m.fetched = hash
		return
	}
	slot := name == m.conn.Src.Name && !noSlots && !m.runs(hash)
	if k := maxUnavailable(info); k > 0 && slot && !m.takeSlot(ctx, name, hash, k) {
		return // not fetched for good: the resync tries again
	}
	m.fetched = hash
	m.log.Info("fleet: new version published", "source", m.conn.Src.String(), "sha256", hash, "canary", name != m.conn.Src.Name)
	if err := m.write(data, hash); err != nil {
		m.log.Error("fleet: write the new version", "file", m.File(), "err", err)
	}
}

// followed is the object this instance follows: the canary's copy when it
// is one, else the name's.
func (m *Mirror) followed() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.canary; c != nil && slices.Contains(c.Instances, m.id) {
		return m.conn.Src.versionObject(c.Version)
	}
	return m.conn.Src.Name
}

// writeAtomic writes path through a fsynced temporary file renamed over
// it, so the watcher never reads a torn version.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
