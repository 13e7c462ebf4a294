package host_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
)

// embeddedStore starts the embedded store (no TCP port) in a directory of
// the test's own and returns a store connected to it in-process, and its
// server (a test may shut it down to see an outage).
func embeddedStore(tb testing.TB) (kv.Store, *embedded.Server) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := kv.Config{Dir: tb.TempDir(), Timeout: 2 * time.Second}.WithDefaults()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: cfg.Dir, NoListen: true})
	if err != nil {
		tb.Fatal(err)
	}
	store, err := kvopen.Open(ctx, srv.InProcessConfig(cfg))
	if err != nil {
		srv.Shutdown()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		store.Close()
		srv.Shutdown()
	})
	return store, srv
}

// kvcall's function indexes (testdata/kvcall.wat).
const (
	kvGet = iota
	kvSet
	kvDelete
	kvIncr
	kvCAS
	kvKeys
	kvLastError
)

// Guest addresses: the request body lands at 0x100; its first 44 bytes
// are the call, data follows at kvData.
const (
	kvBody = 0x100
	kvData = kvBody + 0x40
	kvOut  = 0x8000 // free memory for results
)

// kvReq is one kvcall request: fn with args, dumping [dump, dump+n) back,
// with data at kvData.
type kvReq struct {
	fn      uint32
	args    []uint32
	dump, n uint32
	data    []byte
}

func (c kvReq) body() []byte {
	b := make([]byte, 0x40, 0x40+len(c.data))
	binary.LittleEndian.PutUint32(b, c.fn)
	for i, a := range c.args {
		binary.LittleEndian.PutUint32(b[4+4*i:], a)
	}
	binary.LittleEndian.PutUint32(b[36:], c.dump)
	binary.LittleEndian.PutUint32(b[40:], c.n)
	return append(b, c.data...)
}

// kvResp is what kvcall answered.
type kvResp struct {
	code   int
	result uint64
	msg    string
	dump   []byte
}

func callKV(t *testing.T, p *host.Plugin, c kvReq) kvResp {
	t.Helper()
	rec, aborted := serveOrAbort(t, p, newReq(http.MethodPost, "/", c.body()))
	if aborted {
		t.Fatal("aborted")
	}
	r := kvResp{code: rec.Code}
	b := rec.Body.Bytes()
	if rec.Code != http.StatusOK {
		return r
	}
	if len(b) < 12 {
		t.Fatalf("short answer %q", b)
	}
	r.result = binary.LittleEndian.Uint64(b)
	n := binary.LittleEndian.Uint32(b[8:])
	r.msg = string(b[12 : 12+n])
	r.dump = b[12+n:]
	return r
}

func kvPlugin(t *testing.T, store host.KV, maxValue int64) *host.Plugin {
	t.Helper()
	return newPlugin(t, wat(t, "kvcall"), host.Config{PoolSize: 1, KV: store, KVMaxValue: maxValue})
}

// set stores val under key through the guest and returns the revision.
func guestSet(t *testing.T, p *host.Plugin, key, val string, ttlMs int32) uint64 {
	t.Helper()
	r := callKV(t, p, kvReq{fn: kvSet, args: []uint32{kvData, uint32(len(key)), kvData + uint32(len(key)), uint32(len(val)), uint32(ttlMs), kvOut},
		dump: kvOut, n: 8, data: []byte(key + val)})
	if r.code != 200 || abi.Status(r.result) != abi.StatusOK {
		t.Fatalf("kv_set(%q): %d %v %q", key, r.code, abi.Status(r.result), r.msg)
	}
	return binary.LittleEndian.Uint64(r.dump)
}

// get reads key with buf_limit limit: the StatusLen, the value (the first
// limit bytes at buf) and the revision.
func guestGet(t *testing.T, p *host.Plugin, key string, limit uint32) (abi.StatusLen, []byte, uint64, string) {
	t.Helper()
	// Each limit gets a buffer of its own: guest memory keeps what earlier
	// requests wrote.
	buf := kvOut + 16 + 0x100*limit
	r := callKV(t, p, kvReq{fn: kvGet, args: []uint32{kvData, uint32(len(key)), buf, limit, kvOut},
		dump: kvOut, n: 16 + 0x100*limit + limit, data: []byte(key)})
	if r.code != 200 {
		t.Fatalf("kv_get(%q): HTTP %d", key, r.code)
	}
	return abi.StatusLen(r.result), r.dump[buf-kvOut:], binary.LittleEndian.Uint64(r.dump), r.msg
}

func TestKVGuestRoundTrip(t *testing.T) {
	store, _ := embeddedStore(t)
	p := kvPlugin(t, store, 0)

	rev := guestSet(t, p, "greeting", "hello", 0)
	if rev == 0 {
		t.Fatal("kv_set wrote revision 0")
	}
	sl, val, gotRev, _ := guestGet(t, p, "greeting", 64)
	if sl != abi.NewStatusLen(abi.StatusOK, 5) || string(val[:5]) != "hello" || gotRev != rev {
		t.Errorf("kv_get = %#x %q rev %d, want ok/5 hello rev %d", uint64(sl), val[:5], gotRev, rev)
	}
	// Buffer rule: too small a buffer gets the length, nothing written.
	sl, val, _, _ = guestGet(t, p, "greeting", 2)
	if sl != abi.NewStatusLen(abi.StatusOK, 5) || !bytes.Equal(val, []byte{0, 0}) {
		t.Errorf("kv_get with buf_limit 2 = %#x, buffer %q; want the length and nothing written", uint64(sl), val)
	}
	sl, _, _, msg := guestGet(t, p, "absent", 64)
	if sl.Status() != abi.StatusNotFound || !strings.Contains(msg, "not found") {
		t.Errorf("kv_get(absent) = %v %q", sl.Status(), msg)
	}

	// delete, then the key is gone; deleting again is fine.
	for range 2 {
		r := callKV(t, p, kvReq{fn: kvDelete, args: []uint32{kvData, 8}, data: []byte("greeting")})
		if abi.Status(r.result) != abi.StatusOK {
			t.Fatalf("kv_delete: %v %q", abi.Status(r.result), r.msg)
		}
	}
	if sl, _, _, _ := guestGet(t, p, "greeting", 64); sl.Status() != abi.StatusNotFound {
		t.Errorf("after kv_delete: %v", sl.Status())
	}
	if s := p.Stats().KV; s["get"].Results["ok"] < 2 || s["get"].Results["not_found"] < 2 || s["set"].Results["ok"] != 1 {
		t.Errorf("Stats.KV = %+v", s)
	}
}

func TestKVGuestIncrAndCAS(t *testing.T) {
	store, _ := embeddedStore(t)
	p := kvPlugin(t, store, 0)
	incr := func(key string, delta int32) (abi.Status, int64, string) {
		r := callKV(t, p, kvReq{fn: kvIncr, args: []uint32{kvData, uint32(len(key)), uint32(delta), 0, kvOut},
			dump: kvOut, n: 8, data: []byte(key)})
		return abi.Status(r.result), int64(binary.LittleEndian.Uint64(r.dump)), r.msg
	}
	for i, want := range []int64{5, 10, 3} {
		s, n, msg := incr("n", []int32{5, 5, -7}[i])
		if s != abi.StatusOK || n != want {
			t.Fatalf("kv_incr #%d = %v %d %q, want %d", i, s, n, msg, want)
		}
	}
	guestSet(t, p, "word", "abc", 0)
	if s, _, msg := incr("word", 1); s != abi.StatusNotNumber || msg == "" {
		t.Errorf("kv_incr of a non-number = %v %q, want not_number", s, msg)
	}

	rev := guestSet(t, p, "c", "v1", 0)
	cas := func(val string, expected uint64) (abi.Status, uint64, string) {
		r := callKV(t, p, kvReq{fn: kvCAS, args: []uint32{kvData, 1, kvData + 1, uint32(len(val)), uint32(expected), 0, kvOut},
			dump: kvOut, n: 8, data: []byte("c" + val)})
		return abi.Status(r.result), binary.LittleEndian.Uint64(r.dump), r.msg
	}
	if s, _, _ := cas("stale", rev+1000); s != abi.StatusConflict {
		t.Errorf("kv_cas with a stale revision = %v, want conflict", s)
	}
	if s, _, _ := cas("create", 0); s != abi.StatusConflict {
		t.Errorf("kv_cas rev 0 on an existing key = %v, want conflict", s)
	}
	s, rev2, msg := cas("v2", rev)
	if s != abi.StatusOK || rev2 == rev {
		t.Fatalf("kv_cas with the current revision = %v rev %d %q", s, rev2, msg)
	}
	if _, val, got, _ := guestGet(t, p, "c", 8); string(val[:2]) != "v2" || got != rev2 {
		t.Errorf("after kv_cas: %q rev %d, want v2 rev %d", val[:2], got, rev2)
	}
}

func TestKVGuestKeys(t *testing.T) {
	store, _ := embeddedStore(t)
	p := kvPlugin(t, store, 0)
	for _, k := range []string{"k/b", "k/a", "k/\x00c", "other"} {
		guestSet(t, p, k, "x", 0)
	}
	list := func(prefix, after string, limit uint32) (abi.KeysResult, []byte) {
		buf := kvOut + 0x100*limit // a buffer of its own per limit, as in guestGet
		r := callKV(t, p, kvReq{fn: kvKeys, args: []uint32{kvData, uint32(len(prefix)), kvData + uint32(len(prefix)), uint32(len(after)), buf, limit},
			dump: buf, n: limit, data: []byte(prefix + after)})
		return abi.KeysResult(r.result), r.dump
	}
	want := abi.AppendKeyList(nil, []byte("k/\x00c"), []byte("k/a"), []byte("k/b"))
	kr, buf := list("k/", "", 64)
	if kr != abi.NewKeysResult(abi.StatusOK, false, uint32(len(want))) || !bytes.Equal(buf[:len(want)], want) {
		t.Errorf("kv_keys(k/) = %#x %q, want %q", uint64(kr), buf, want)
	}
	kr, buf = list("k/", "", 4)
	if kr.Len() != uint32(len(want)) || !bytes.Equal(buf, make([]byte, 4)) {
		t.Errorf("kv_keys into 4 bytes = %#x %q: want the length and nothing written", uint64(kr), buf)
	}
	want = abi.AppendKeyList(nil, []byte("k/b"))
	if kr, buf = list("k/", "k/a", 64); kr.Len() != uint32(len(want)) || !bytes.Equal(buf[:len(want)], want) {
		t.Errorf("kv_keys(k/ after k/a) = %#x %q", uint64(kr), buf)
	}
}

// Bad input from the guest is a Status it handles, explained by
// last_error; memory outside the guest's traps (500) and stores nothing.
func TestKVGuestBadInput(t *testing.T) {
	store, _ := embeddedStore(t)
	p := kvPlugin(t, store, 16)
	long := strings.Repeat("k", abi.KVMaxKey+1)
	tests := []struct {
		name   string
		req    kvReq
		status abi.Status
		msg    string
	}{
		{"value over max_value", kvReq{fn: kvSet, args: []uint32{kvData, 1, kvData, 17, 0, kvOut}, data: []byte(strings.Repeat("v", 17))},
			abi.StatusTooLarge, "value of 17 bytes is over kv.max_value (16)"},
		{"key over 256 bytes", kvReq{fn: kvSet, args: []uint32{kvData, abi.KVMaxKey + 1, kvData, 1, 0, kvOut}, data: []byte(long)},
			abi.StatusTooLarge, "key of 257 bytes is over the limit of 256 bytes"},
		{"empty key", kvReq{fn: kvDelete, args: []uint32{kvData, 0}}, abi.StatusInvalid, "empty key"},
		{"negative ttl", kvReq{fn: kvSet, args: []uint32{kvData, 1, kvData, 1, 0xffffffff, kvOut}, data: []byte("k")},
			abi.StatusInvalid, "negative TTL"},
		{"incr negative ttl", kvReq{fn: kvIncr, args: []uint32{kvData, 1, 1, 0xfffffff0, kvOut}, data: []byte("k")},
			abi.StatusInvalid, "negative TTL"},
		{"cas value over max_value", kvReq{fn: kvCAS, args: []uint32{kvData, 1, kvData, 20, 0, 0, kvOut}, data: []byte(strings.Repeat("v", 20))},
			abi.StatusTooLarge, "kv.max_value (16)"},
		{"keys prefix over 256 bytes", kvReq{fn: kvKeys, args: []uint32{kvData, abi.KVMaxKey + 1, 0, 0, kvOut, 64}, data: []byte(long)},
			abi.StatusTooLarge, "over the key limit"},
	}
	for _, tt := range tests {
		r := callKV(t, p, tt.req)
		got := abi.Status(r.result)
		if tt.req.fn == kvKeys {
			got = abi.KeysResult(r.result).Status()
		}
		if r.code != 200 || got != tt.status || !strings.Contains(r.msg, tt.msg) {
			t.Errorf("%s: HTTP %d %v %q, want %v %q", tt.name, r.code, got, r.msg, tt.status, tt.msg)
		}
	}
	guestSet(t, p, "present", "hello", 0)
	for _, tt := range []struct {
		name string
		req  kvReq
	}{
		{"key outside memory", kvReq{fn: kvGet, args: []uint32{0xffffff00, 8, kvOut, 8, kvOut}}},
		{"rev_ptr outside memory", kvReq{fn: kvSet, args: []uint32{kvData, 1, kvData, 1, 0, 0xfffffffc}, data: []byte("z")}},
		{"result_ptr past the end", kvReq{fn: kvIncr, args: []uint32{kvData, 1, 1, 0, 0xfffc}, data: []byte("z")}},
		{"value buf past the end", kvReq{fn: kvGet, args: []uint32{kvData, 7, 0xfffe, 100, kvOut}, data: []byte("present")}},
	} {
		if r := callKV(t, p, tt.req); r.code != http.StatusInternalServerError {
			t.Errorf("%s: HTTP %d, want 500", tt.name, r.code)
		}
	}
	// The trapped kv_set and kv_incr wrote nothing.
	if _, _, err := store.Get(context.Background(), []byte("z")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("a call that trapped on its result pointer wrote the store: %v", err)
	}
}

// A store that is down is an error the guest sees, bounded by kv.timeout;
// the request still completes.
func TestKVGuestStoreDown(t *testing.T) {
	store, srv := embeddedStore(t)
	p := newPlugin(t, wat(t, "kvcall"), host.Config{PoolSize: 1, KV: store, KVTimeout: 500 * time.Millisecond})
	guestSet(t, p, "k", "v", 0)
	srv.Shutdown()
	r := callKV(t, p, kvReq{fn: kvSet, args: []uint32{kvData, 1, kvData, 1, 0, kvOut}, data: []byte("k")})
	if s := abi.Status(r.result); r.code != 200 || (s != abi.StatusUnavailable && s != abi.StatusTimeout) || r.msg == "" {
		t.Errorf("kv_set with the store down: HTTP %d %v %q, want unavailable or timeout", r.code, s, r.msg)
	}
	if s := p.Stats().KV["set"]; s.Results["unavailable"]+s.Results["timeout"] != 1 {
		t.Errorf("Stats.KV[set] = %+v", s)
	}
}

// With no store (kv.url = "off") a plugin importing a kv_* function is
// refused at load, naming the setting.
func TestKVRefusedWhenOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := host.New(ctx, wat(t, "kvcall"), host.Config{Logger: quiet()})
	var le *host.LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), `kv.url = "off"`) || !strings.Contains(err.Error(), "wasmcluster.kv_get") {
		t.Fatalf("load without a store: %v", err)
	}
}

// A kv_get whose value did not fit is retried with a bigger buffer without
// a second call to the store, and a kv_get after the request's own kv_set
// is answered from that write.
func TestKVGuestRetryAndReadYourWrites(t *testing.T) {
	store, _ := embeddedStore(t)
	p := kvPlugin(t, store, 0)
	val := strings.Repeat("0123456789", 10)
	rev := guestSet(t, p, "big", val, 0)
	calls := func(op string) uint64 { return p.Stats().KV[op].Results["ok"] }

	gets := calls("get")
	r := callKV(t, p, kvReq{fn: kvGet | (kvGet+1)<<8, args: []uint32{kvData, 3, kvOut + 8, 10, kvOut, 0, 0, 200},
		dump: kvOut, n: 8 + 100, data: []byte("big")})
	if abi.StatusLen(r.result) != abi.NewStatusLen(abi.StatusOK, 100) || string(r.dump[8:]) != val || binary.LittleEndian.Uint64(r.dump) != rev {
		t.Fatalf("kv_get retried with a bigger buffer = %#x %q", r.result, r.dump)
	}
	if got := calls("get"); got != gets+1 {
		t.Errorf("two kv_get calls for one value made %d store calls, want 1", got-gets)
	}

	sets, gets := calls("set"), calls("get")
	r = callKV(t, p, kvReq{fn: kvSet | (kvGet+1)<<8, args: []uint32{kvData, 4, kvData + 4, 5, 0, kvOut, 0, 64},
		data: []byte("mineworld")})
	if abi.StatusLen(r.result) != abi.NewStatusLen(abi.StatusOK, 5) {
		t.Fatalf("kv_get after kv_set in one request = %#x %q", r.result, r.msg)
	}
	if calls("set") != sets+1 || calls("get") != gets {
		t.Errorf("kv_set then kv_get: %d set and %d get store calls, want 1 and 0", calls("set")-sets, calls("get")-gets)
	}
	// The next request asks the store again.
	if sl, v, _, _ := guestGet(t, p, "mine", 8); sl.Len() != 5 || string(v[:5]) != "world" || calls("get") != gets+1 {
		t.Errorf("next request's kv_get = %#x %q, store calls %d", uint64(sl), v, calls("get")-gets)
	}
}
