package balance

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// MinSlots is the least number of worker processes a table follows at
// once (SlotsFor).
const MinSlots = 64

// SlotsFor is the table size for workers: room for them, surging ones and
// drained ones still finishing requests. A worker started when all slots
// are taken simply is not balanced.
func SlotsFor(workers int) int { return max(MinSlots, 4*workers) }

// slotSize keeps each slot on its own cache line: workers write their own
// slot on every accept and close.
const slotSize = 64

// Board is the shared table. The primary makes it (New) and claims and
// clears slots; a worker opens it (Open) and uses its one Slot.
type Board struct {
	mem     []byte
	n       int // slots
	mu      sync.Mutex
	claimed []bool // the primary's bookkeeping only
}

// Slot is one worker's entry: its open connections and whether it accepts.
type Slot struct {
	b *Board
	i int
}

func (b *Board) word(i, field int) *atomic.Int64 {
	return (*atomic.Int64)(unsafe.Pointer(&b.mem[i*slotSize+field*8]))
}

const (
	fieldConns     = 0
	fieldAccepting = 1
)

// Claim takes a free slot for a worker about to start; ok is false when
// all are in use.
func (b *Board) Claim() (i int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.claimed {
		if !b.claimed[i] {
			b.claimed[i] = true
			b.clear(i)
			return i, true
		}
	}
	return -1, false
}

// Release frees slot i after its worker exited: its connections are gone.
func (b *Board) Release(i int) {
	if b == nil || i < 0 || i >= b.n {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear(i)
	b.claimed[i] = false
}

func (b *Board) clear(i int) {
	b.word(i, fieldConns).Store(0)
	b.word(i, fieldAccepting).Store(0)
}

// Slot is the worker's entry i, or nil for a slot out of range (no
// balancing for that worker).
func (b *Board) Slot(i int) *Slot {
	if b == nil || i < 0 || i >= b.n {
		return nil
	}
	return &Slot{b: b, i: i}
}

// Conns is the number of open connections slot i holds (0 without a
// table or for no slot).
func (b *Board) Conns(i int) int64 {
	if b == nil || i < 0 || i >= b.n {
		return 0
	}
	return b.word(i, fieldConns).Load()
}

func (s *Slot) add(d int64) { s.b.word(s.i, fieldConns).Add(d) }

// setAccepting marks whether the worker takes new connections; only
// accepting workers count toward the share.
func (s *Slot) setAccepting(on bool) {
	v := int64(0)
	if on {
		v = 1
	}
	s.b.word(s.i, fieldAccepting).Store(v)
}

// overShare reports whether this worker holds more than its share of the
// accepting workers' connections: more than the mean, rounded up, plus a
// slack of one connection in sixteen (at least one), so small counts and
// the noise of simultaneous accepts never hold anyone back.
func (s *Slot) overShare() bool {
	var total, n int64
	for i := range s.b.n {
		if s.b.word(i, fieldAccepting).Load() == 0 {
			continue
		}
		total += s.b.word(i, fieldConns).Load()
		n++
	}
	if n < 2 {
		return false
	}
	mine := s.b.word(s.i, fieldConns).Load()
	share := (total + n - 1) / n
	return mine > share+max(1, share/16)
}
