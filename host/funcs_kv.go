package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// kvFuncs is the KV extension (abi/kv.go): the shared key-value store,
// Config.KV. A plugin importing any of them is refused at load when
// Config.KV is nil (the operator set kv.url = "off").
var kvFuncs = []hostFunc{
	{abi.FuncKVGet, sig(params(i32, i32, i32, i32, i32), i64), (*Plugin).kvGet},
	{abi.FuncKVSet, sig(params(i32, i32, i32, i32, i64, i32), i32), (*Plugin).kvSet},
	{abi.FuncKVDelete, sig(params(i32, i32), i32), (*Plugin).kvDelete},
	{abi.FuncKVIncr, sig(params(i32, i32, i64, i64, i32), i32), (*Plugin).kvIncr},
	{abi.FuncKVCAS, sig(params(i32, i32, i32, i32, i64, i64, i32), i32), (*Plugin).kvCAS},
	{abi.FuncKVKeys, sig(params(i32, i32, i32, i32, i32, i32), i64), (*Plugin).kvKeys},
}

// kvOffReason is why a plugin importing kv_* is refused when no store is
// configured.
const kvOffReason = `the shared key-value store is off (kv.url = "off"): set [kv] url ` +
	`(empty for the embedded store, nats://… or redis://…) or remove the import`

// kv_get(key, key_len, buf, buf_limit, rev_ptr) -> StatusLen
func (p *Plugin) kvGet(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncKVGet
	rq := requestOf(ctx, fn)
	key := readMem(mod, fn, uint32(stack[0]), uint32(stack[1]))
	buf, limit, revPtr := uint32(stack[2]), uint32(stack[3]), uint32(stack[4])
	readMem(mod, fn, revPtr, 8)
	if s := p.kvCheckKey(rq, fn, key); s != abi.StatusOK {
		stack[0] = uint64(abi.NewStatusLen(s, 0))
		return
	}
	st := rq.kvState()
	e := st.lookup(key)
	if e == nil {
		var val []byte
		var rev uint64
		s := p.kvCall(rq, kvOpGet, fn, func(ctx context.Context) (err error) {
			val, rev, err = p.cfg.KV.Get(ctx, key)
			return err
		})
		if s == abi.StatusNotFound {
			rq.extErr = fmt.Sprintf("%s: key %q not found", fn, key) // the store's message does not name the key
		}
		if s != abi.StatusOK {
			stack[0] = uint64(abi.NewStatusLen(s, 0))
			return
		}
		e = &kvEntry{val: val, rev: rev}
		st.put(key, e)
	}
	if e.absent {
		stack[0] = uint64(abi.NewStatusLen(p.extFail(rq, abi.StatusNotFound, "%s: key %q not found", fn, key), 0))
		return
	}
	n := writeResult(mod, fn, buf, limit, e.val)
	mod.Memory().WriteUint64Le(revPtr, e.rev)
	if n <= limit && !e.write {
		st.forget(key) // delivered: a later kv_get asks the store again
	}
	stack[0] = uint64(abi.NewStatusLen(abi.StatusOK, n))
}

// kv_set(key, key_len, val, val_len, ttl_ms i64, rev_ptr) -> status
func (p *Plugin) kvSet(ctx context.Context, mod api.Module, stack []uint64) {
	ttlMs, revPtr := int64(stack[4]), uint32(stack[5])
	stack[0] = uint64(p.kvPut(ctx, mod, stack, abi.FuncKVSet, kvOpSet, ttlMs, revPtr,
		func(ctx context.Context, key, val []byte, ttl time.Duration) (uint64, error) {
			return p.cfg.KV.Set(ctx, key, val, ttl)
		}))
}

// kv_cas(key, key_len, val, val_len, expected_rev i64, ttl_ms i64, rev_ptr) -> status
func (p *Plugin) kvCAS(ctx context.Context, mod api.Module, stack []uint64) {
	expected, ttlMs, revPtr := stack[4], int64(stack[5]), uint32(stack[6])
	stack[0] = uint64(p.kvPut(ctx, mod, stack, abi.FuncKVCAS, kvOpCAS, ttlMs, revPtr,
		func(ctx context.Context, key, val []byte, ttl time.Duration) (uint64, error) {
			return p.cfg.KV.CompareAndSwap(ctx, key, val, expected, ttl)
		}))
}

// kvPut is kv_set and kv_cas: the key and value at stack[0..3], checked,
// written by put, remembered for read-your-writes, the new revision
// written to revPtr.
func (p *Plugin) kvPut(ctx context.Context, mod api.Module, stack []uint64, fn string, op kvOp, ttlMs int64, revPtr uint32,
	put func(ctx context.Context, key, val []byte, ttl time.Duration) (uint64, error)) abi.Status {
	rq := requestOf(ctx, fn)
	key := readMem(mod, fn, uint32(stack[0]), uint32(stack[1]))
	val := readMem(mod, fn, uint32(stack[2]), uint32(stack[3]))
	readMem(mod, fn, revPtr, 8)
	if s := p.kvCheckWrite(rq, fn, key, val, ttlMs); s != abi.StatusOK {
		return s
	}
	val = bytes.Clone(val)
	var rev uint64
	s := p.kvCall(rq, op, fn, func(ctx context.Context) (err error) {
		rev, err = put(ctx, key, val, time.Duration(ttlMs)*time.Millisecond)
		return err
	})
	p.kvWrote(rq, key, s, &kvEntry{val: val, rev: rev, write: true})
	if s == abi.StatusOK {
		mod.Memory().WriteUint64Le(revPtr, rev)
	}
	return s
}

// kv_delete(key, key_len) -> status
func (p *Plugin) kvDelete(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncKVDelete
	rq := requestOf(ctx, fn)
	key := readMem(mod, fn, uint32(stack[0]), uint32(stack[1]))
	s := p.kvCheckKey(rq, fn, key)
	if s == abi.StatusOK {
		s = p.kvCall(rq, kvOpDelete, fn, func(ctx context.Context) error {
			return p.cfg.KV.Delete(ctx, key)
		})
		p.kvWrote(rq, key, s, &kvEntry{absent: true, write: true})
	}
	stack[0] = uint64(s)
}

// kv_incr(key, key_len, delta i64, ttl_ms i64, result_ptr) -> status
func (p *Plugin) kvIncr(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncKVIncr
	rq := requestOf(ctx, fn)
	key := readMem(mod, fn, uint32(stack[0]), uint32(stack[1]))
	delta, ttlMs, resPtr := int64(stack[2]), int64(stack[3]), uint32(stack[4])
	readMem(mod, fn, resPtr, 8)
	s := p.kvCheckWrite(rq, fn, key, nil, ttlMs)
	if s != abi.StatusOK {
		stack[0] = uint64(s)
		return
	}
	var n int64
	s = p.kvCall(rq, kvOpIncr, fn, func(ctx context.Context) (err error) {
		n, err = p.cfg.KV.Incr(ctx, key, delta, time.Duration(ttlMs)*time.Millisecond)
		return err
	})
	// The new value's revision is unknown: a later kv_get asks the store.
	rq.kvState().forget(key)
	if s == abi.StatusOK {
		mod.Memory().WriteUint64Le(resPtr, uint64(n))
	}
	stack[0] = uint64(s)
}

// kv_keys(prefix, prefix_len, after, after_len, buf, buf_limit) -> KeysResult
func (p *Plugin) kvKeys(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncKVKeys
	rq := requestOf(ctx, fn)
	prefix := readMem(mod, fn, uint32(stack[0]), uint32(stack[1]))
	after := readMem(mod, fn, uint32(stack[2]), uint32(stack[3]))
	buf, limit := uint32(stack[4]), uint32(stack[5])
	if len(prefix) > abi.KVMaxKey || len(after) > abi.KVMaxKey {
		s := p.extFail(rq, abi.StatusTooLarge, "%s: prefix of %d bytes or after of %d bytes is over the key limit (%d)",
			fn, len(prefix), len(after), abi.KVMaxKey)
		stack[0] = uint64(abi.NewKeysResult(s, false, 0))
		return
	}
	st := rq.kvState()
	page := st.pageFor(prefix, after)
	if page == nil {
		var keys [][]byte
		var more bool
		s := p.kvCall(rq, kvOpKeys, fn, func(ctx context.Context) (err error) {
			var a []byte
			if len(after) > 0 {
				a = after
			}
			keys, more, err = p.cfg.KV.Keys(ctx, prefix, a, abi.KVKeysPageMax)
			return err
		})
		if s != abi.StatusOK {
			stack[0] = uint64(abi.NewKeysResult(s, false, 0))
			return
		}
		st.page = kvPage{valid: true, prefix: string(prefix), after: string(after),
			list: abi.AppendKeyList(st.page.list[:0], keys...), more: more}
		page = &st.page
	}
	n := writeResult(mod, fn, buf, limit, page.list)
	if n <= limit {
		page.valid = false
	}
	stack[0] = uint64(abi.NewKeysResult(abi.StatusOK, page.more, n))
}

// kvCheckKey refuses an empty or oversized key.
func (p *Plugin) kvCheckKey(rq *request, fn string, key []byte) abi.Status {
	switch {
	case len(key) == 0:
		return p.extFail(rq, abi.StatusInvalid, "%s: empty key", fn)
	case len(key) > abi.KVMaxKey:
		return p.extFail(rq, abi.StatusTooLarge, "%s: key of %d bytes is over the limit of %d bytes", fn, len(key), abi.KVMaxKey)
	}
	return abi.StatusOK
}

// kvCheckWrite adds to kvCheckKey the value's size and the TTL's sign.
func (p *Plugin) kvCheckWrite(rq *request, fn string, key, val []byte, ttlMs int64) abi.Status {
	if s := p.kvCheckKey(rq, fn, key); s != abi.StatusOK {
		return s
	}
	if int64(len(val)) > p.cfg.KVMaxValue {
		return p.extFail(rq, abi.StatusTooLarge, "%s: value of %d bytes is over kv.max_value (%d)", fn, len(val), p.cfg.KVMaxValue)
	}
	if ttlMs < 0 {
		return p.extFail(rq, abi.StatusInvalid, "%s: negative TTL %d ms", fn, ttlMs)
	}
	return abi.StatusOK
}

// kvWrote remembers a write for read-your-writes, or forgets the key when
// the write's outcome is unknown or refused.
func (p *Plugin) kvWrote(rq *request, key []byte, s abi.Status, e *kvEntry) {
	st := rq.kvState()
	if s == abi.StatusOK {
		st.put(key, e)
		return
	}
	st.forget(key)
}

// kvCall runs one store call bounded by the request's deadline and
// kv.timeout, counts it, and turns its error into a Status explained by
// last_error.
func (p *Plugin) kvCall(rq *request, op kvOp, fn string, call func(context.Context) error) abi.Status {
	if p.cfg.KV == nil { // a plugin importing kv_* is refused at load; an embedder may still get here
		return p.extFail(rq, abi.StatusNotGranted, "%s: %s", fn, kvOffReason)
	}
	start := time.Now()
	deadline := start.Add(p.cfg.KVTimeout)
	if !rq.deadline.IsZero() && rq.deadline.Before(deadline) {
		deadline = rq.deadline
	}
	ctx, cancel := context.WithDeadline(rq.r.Context(), deadline)
	err := call(ctx)
	cancel()
	s := kvStatus(ctx, err)
	p.stats.kv.observe(op, s, time.Since(start))
	if s != abi.StatusOK {
		return p.extFail(rq, s, "%s: %v", fn, err)
	}
	return s
}

// kvStatus maps a store error to the status the guest sees.
func kvStatus(ctx context.Context, err error) abi.Status {
	var se StatusError
	switch {
	case err == nil:
		return abi.StatusOK
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return abi.StatusTimeout
	case errors.As(err, &se):
		return se.Status()
	case errors.Is(err, context.Canceled):
		return abi.StatusUnavailable
	}
	return abi.StatusFailed
}
