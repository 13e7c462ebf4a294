package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SlotTTL is how long a roll slot outlives its holder's last refresh: an
// instance that dies mid-roll frees its slot by itself after this long.
const SlotTTL = 15 * time.Second

// slotRefresh is how often a holder refreshes its slot; a third of the TTL
// leaves two refreshes' worth of NATS trouble before the slot is lost.
const slotRefresh = SlotTTL / 3

// slotPoll is how often an instance waiting for a slot tries again.
const slotPoll = 200 * time.Millisecond

// maxHold bounds a hold whose roll never reports its end (the written
// version was never checked, say): past it the slot is freed anyway.
const maxHold = 10 * time.Minute

// metaMaxUnavailable is the object metadata carrying the publish's
// --max-unavailable: the bound travels with the version it bounds.
const metaMaxUnavailable = "wasmcluster-max-unavailable"

// Slot is one held roll slot: which instance rolls to which version.
type Slot struct {
	Key      string    `json:"-"`
	Instance string    `json:"instance"`
	Version  string    `json:"version"`
	Since    time.Time `json:"since"`
}

// maxUnavailable reads the bound an object was published with (0: none).
func maxUnavailable(info *jetstream.ObjectInfo) int {
	if info == nil {
		return 0
	}
	k, err := strconv.Atoi(info.Metadata[metaMaxUnavailable])
	if err != nil || k < 0 {
		return 0
	}
	return k
}

// Slots lists the roll slots held now, by key.
func (c *Conn) Slots(ctx context.Context) ([]Slot, error) {
	entries, err := c.entries(ctx, c.Src.rollingBucket(), SlotTTL, c.Src.Name+".slot.", "roll slots")
	if err != nil {
		return nil, err
	}
	var out []Slot
	for _, e := range entries {
		var s Slot
		if json.Unmarshal(e.Value(), &s) == nil {
			s.Key = e.Key()
			out = append(out, s)
		}
	}
	return out, nil
}

// hold is the slot this instance holds while it rolls.
type hold struct {
	key     string
	rev     uint64
	version string
	since   time.Time
	stop    context.CancelFunc
	done    chan struct{}
}

// takeSlot waits until this instance holds one of k roll slots for hash,
// fetched from object name. It returns false when ctx ends or name holds
// another version by then (the watch brings that one next).
func (m *Mirror) takeSlot(ctx context.Context, name, hash string, k int) bool {
	m.mu.Lock()
	if h := m.held; h != nil { // a newer version mid-roll: same slot
		h.version = hash
		m.mu.Unlock()
		return true
	}
	m.waiting = hash
	m.mu.Unlock()
	defer func() { m.mu.Lock(); m.waiting = ""; m.mu.Unlock() }()
	logged := false
	for {
		if m.tryTake(ctx, hash, k) {
			return true
		}
		if !logged {
			m.log.Info("fleet: waiting for a roll slot", "source", m.conn.Src.String(), "sha256", hash, "max_unavailable", k)
			logged = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(slotPoll):
		}
		if info, err := m.conn.info(ctx, name); err == nil && digestHex(info) != hash {
			return false
		}
	}
}

// tryTake creates one of the k slot keys; Create fails on a held one.
func (m *Mirror) tryTake(ctx context.Context, hash string, k int) bool {
	octx, cancel := m.conn.op(ctx)
	defer cancel()
	kvb, err := m.conn.kvBucket(octx, m.conn.Src.rollingBucket(), SlotTTL)
	if err != nil {
		return false
	}
	now := time.Now().UTC()
	enc, _ := json.Marshal(Slot{Instance: m.id, Version: hash, Since: now})
	for i := range k {
		key := m.conn.Src.slotKey(i)
		rev, err := kvb.Create(octx, key, enc)
		if err != nil {
			continue
		}
		hctx, stop := context.WithCancel(context.Background())
		h := &hold{key: key, rev: rev, version: hash, since: now, stop: stop, done: make(chan struct{})}
		m.mu.Lock()
		m.held = h
		m.mu.Unlock()
		m.log.Info("fleet: roll slot taken", "source", m.conn.Src.String(), "slot", key, "sha256", hash)
		go m.refresh(hctx, kvb, h)
		return true
	}
	return false
}

// refresh keeps h alive until it is released; a hold past maxHold, or
// one another instance took over (it expired meanwhile), ends.
func (m *Mirror) refresh(ctx context.Context, kvb jetstream.KeyValue, h *hold) {
	defer close(h.done)
	t := time.NewTicker(slotRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		version := h.version
		m.mu.Unlock()
		if m.runs(version) {
			go m.release(version)
			return
		}
		if time.Since(h.since) > maxHold {
			m.log.Warn("fleet: the roll under this slot never reported its end; freeing the slot", "slot", h.key, "held", maxHold)
			go m.release(version)
			return
		}
		m.mu.Lock()
		enc, _ := json.Marshal(Slot{Instance: m.id, Version: h.version, Since: h.since})
		rev := h.rev
		m.mu.Unlock()
		octx, cancel := m.conn.op(ctx)
		nrev, err := kvb.Update(octx, h.key, enc, rev)
		cancel()
		switch {
		case err == nil:
			m.mu.Lock()
			h.rev = nrev
			m.mu.Unlock()
		case errors.Is(err, jetstream.ErrKeyExists):
			m.log.Warn("fleet: roll slot lost (it expired while NATS was away); the roll goes on", "slot", h.key)
			return
		default:
			m.log.Debug("fleet: refresh roll slot", "slot", h.key, "err", err)
		}
	}
}

// release frees the slot held for version (any version when ""), if any.
func (m *Mirror) release(version string) {
	m.mu.Lock()
	h := m.held
	if h == nil || version != "" && h.version != version {
		m.mu.Unlock()
		return
	}
	m.held = nil
	m.mu.Unlock()
	h.stop()
	<-h.done // no refresh runs now: h.rev is the last one
	ctx, cancel := context.WithTimeout(context.Background(), m.conn.timeout)
	defer cancel()
	kvb, err := m.conn.kvBucket(ctx, m.conn.Src.rollingBucket(), SlotTTL)
	if err == nil {
		err = kvb.Delete(ctx, h.key, jetstream.LastRevision(h.rev))
	}
	if err != nil {
		m.log.Debug("fleet: free roll slot (it expires by itself)", "slot", h.key, "err", err)
		return
	}
	m.log.Info("fleet: roll slot freed", "source", m.conn.Src.String(), "slot", h.key, "sha256", h.version)
}

// RollEnded tells the Mirror this instance's roll to target ended, however
// it ended (a version its check refused ends before it starts): the slot
// held for it is freed.
func (m *Mirror) RollEnded(target string) { m.release(target) }

// SlotState is the version this instance waits for a roll slot to roll
// to, and the one it holds a slot for ("" when none): the fleet view.
func (m *Mirror) SlotState() (waiting, holding string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held != nil {
		holding = m.held.version
	}
	return m.waiting, holding
}

// SetRunning gives the Mirror the version this instance's workers run and
// whether a roll is in progress. A version already running takes no slot,
// and a slot held for the running version with no roll going on is freed
// (a write the check never looked at ends no roll).
func (m *Mirror) SetRunning(f func() (version string, rolling bool)) {
	m.mu.Lock()
	m.running = f
	m.mu.Unlock()
}

// runs reports whether the workers run hash with no roll in progress.
func (m *Mirror) runs(hash string) bool {
	m.mu.Lock()
	f := m.running
	m.mu.Unlock()
	if f == nil {
		return false
	}
	v, rolling := f()
	return v == hash && !rolling
}

// NoSlots makes the Mirror ignore --max-unavailable: for an instance that
// does not roll by itself (plugin.watch off), whose roll is the operator's.
func (m *Mirror) NoSlots() {
	m.mu.Lock()
	m.noSlots = true
	m.mu.Unlock()
}
