package host

import (
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// kvState is what one request remembers of the store, so that
//   - a kv_get retried with a bigger buffer (its value did not fit) is served
//     from the value the first call fetched, without a second round trip and
//     with the same revision; the fetched value is kept only until it is
//     delivered;
//   - a kv_get after the request's own kv_set, kv_cas or kv_delete of a key
//     sees that write (read-your-writes), even from a backend whose reads
//     may lag its writes; writes are kept for the whole request;
//   - a kv_keys page that did not fit is served again the same way.
//
// It lives in the request and is dropped with it.
type kvState struct {
	entries map[string]*kvEntry
	size    int // bytes of values held in entries

	page kvPage
}

type kvEntry struct {
	val    []byte
	rev    uint64
	absent bool // a kv_delete of this request, or a kv_get that found nothing
	write  bool // from a write of this request: kept until the request ends
}

type kvPage struct {
	valid         bool
	prefix, after string
	list          []byte // abi.KeyList encoding
	more          bool
}

// kvStateMax bounds the values one request keeps; past it, older entries
// are dropped (the entry being added is always kept).
const kvStateMax = 8 << 20

func (rq *request) kvState() *kvState {
	if rq.kv == nil {
		rq.kv = &kvState{entries: make(map[string]*kvEntry)}
	}
	return rq.kv
}

func (s *kvState) lookup(key []byte) *kvEntry { return s.entries[string(key)] }

func (s *kvState) put(key []byte, e *kvEntry) {
	if old := s.entries[string(key)]; old != nil {
		s.size -= len(old.val)
	}
	if s.size+len(e.val) > kvStateMax {
		clear(s.entries)
		s.size = 0
	}
	s.entries[string(key)] = e
	s.size += len(e.val)
}

func (s *kvState) forget(key []byte) {
	if old := s.entries[string(key)]; old != nil {
		s.size -= len(old.val)
		delete(s.entries, string(key))
	}
}

func (s *kvState) pageFor(prefix, after []byte) *kvPage {
	if s.page.valid && s.page.prefix == string(prefix) && s.page.after == string(after) {
		return &s.page
	}
	return nil
}

// kvOp numbers the kv_* functions for counters.
type kvOp uint8

const (
	kvOpGet kvOp = iota
	kvOpSet
	kvOpDelete
	kvOpIncr
	kvOpCAS
	kvOpKeys
	numKVOps
)

var kvOpNames = [numKVOps]string{"get", "set", "delete", "incr", "cas", "keys"}

func (o kvOp) String() string { return kvOpNames[o] }

// KVLatencyBounds are the upper bounds, in seconds, of the latency buckets
// of KV operations (a last bucket, +Inf, follows).
var KVLatencyBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

// numStatuses covers every abi.Status the host reports; others count as
// StatusFailed.
const numStatuses = int(abi.StatusFailed) + 1

// kvCounters counts store calls by op and result, with their latency. A
// call served from the request's kvState is not a store call and is not
// counted.
type kvCounters struct {
	results [numKVOps][numStatuses]atomic.Uint64
	buckets [numKVOps][13]atomic.Uint64 // len(KVLatencyBounds)+1
	sumNs   [numKVOps]atomic.Int64
}

func (c *kvCounters) observe(op kvOp, s abi.Status, d time.Duration) {
	if int(s) >= numStatuses {
		s = abi.StatusFailed
	}
	c.results[op][s].Add(1)
	sec := d.Seconds()
	i := 0
	for i < len(KVLatencyBounds) && sec > KVLatencyBounds[i] {
		i++
	}
	c.buckets[op][i].Add(1)
	c.sumNs[op].Add(int64(d))
}

// KVOpStats counts one KV operation's store calls.
type KVOpStats struct {
	Results    map[string]uint64 `json:"results,omitempty"` // by abi.Status name ("ok", "not_found", …)
	Buckets    []uint64          `json:"buckets,omitempty"` // per KVLatencyBounds bucket (not cumulative), then +Inf
	SumSeconds float64           `json:"sum,omitempty"`
}

// Add folds o into s.
func (s *KVOpStats) Add(o KVOpStats) {
	for r, n := range o.Results {
		if s.Results == nil {
			s.Results = make(map[string]uint64, len(o.Results))
		}
		s.Results[r] += n
	}
	if len(s.Buckets) < len(o.Buckets) {
		s.Buckets = append(s.Buckets, make([]uint64, len(o.Buckets)-len(s.Buckets))...)
	}
	for i, n := range o.Buckets {
		s.Buckets[i] += n
	}
	s.SumSeconds += o.SumSeconds
}

// snapshot is the counters by op name; ops never called are left out.
func (c *kvCounters) snapshot() map[string]KVOpStats {
	var out map[string]KVOpStats
	for op := range numKVOps {
		var st KVOpStats
		for s := range numStatuses {
			if n := c.results[op][s].Load(); n > 0 {
				if st.Results == nil {
					st.Results = make(map[string]uint64)
				}
				st.Results[abi.Status(s).String()] = n
			}
		}
		if st.Results == nil {
			continue
		}
		st.Buckets = make([]uint64, len(KVLatencyBounds)+1)
		for i := range st.Buckets {
			st.Buckets[i] = c.buckets[op][i].Load()
		}
		st.SumSeconds = time.Duration(c.sumNs[op].Load()).Seconds()
		if out == nil {
			out = make(map[string]KVOpStats)
		}
		out[op.String()] = st
	}
	return out
}
