package host_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
)

// FuzzHostFunctions calls host function number fn (abi.HostFuncs order; past
// the end calls nothing) with fuzz-chosen arguments through the hostcall
// guest, in handle_request or (flags bit 0) in handle_response after next,
// with fuzz-chosen features (flags bits 1..3). Whatever the arguments, the
// host must not panic (an http.ErrAbortHandler abort of an already-sent
// response aside) and must answer a valid status: 200 when the call was
// legal, 500 when the guest broke the ABI, a status the guest set, 413 if it
// read past the body limit, or next's answer.
//
//	go test ./host -run '^$' -fuzz FuzzHostFunctions -fuzztime 60s
func FuzzHostFunctions(f *testing.F) {
	for i := range abi.HostFuncs {
		f.Add(uint8(i), uint8(0), uint32(0), uint32(0x100), uint32(64), uint32(0x200), uint32(64))
		f.Add(uint8(i), uint8(0), uint32(1), uint32(oob), uint32(huge), uint32(edge), uint32(32))
		f.Add(uint8(i), uint8(1), uint32(1), uint32(0x100), uint32(64), uint32(0x200), uint32(64))
		f.Add(uint8(i), uint8(0xf), uint32(1), uint32(0x100), uint32(64), uint32(0x200), uint32(64))
	}
	f.Add(uint8(len(abi.HostFuncs)), uint8(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0))

	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Next", "1")
		io.WriteString(w, "from-next")
	})
	p := newPlugin(f, wat(f, "hostcall"), host.Config{
		PoolSize: 2, GuestConfig: []byte("cfg"), RequestTimeout: 10 * time.Second, MaxRequestBody: 1 << 10,
		Next: next,
	})
	f.Fuzz(func(t *testing.T, fn, flags uint8, a0, a1, a2, a3, a4 uint32) {
		ctl := uint32(fn) | uint32(flags&0xf)<<8
		body := append(hostCallBody(ctl, a0, a1, a2, a3, a4), "rest of the body"...)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := newReq(http.MethodPost, "/fuzz?q=1", body, "x-a", "1", "x-a", "2", "Accept", "*/*").WithContext(ctx)
		rec, aborted := serveOrAbort(t, p, r)
		if aborted {
			return
		}
		switch rec.Code {
		case http.StatusOK:
			if rec.Body.String() == "reused-after-trap" {
				t.Fatal("an instance served again after a trap")
			}
		case http.StatusInternalServerError:
			if rec.Body.String() != "ok" { // else the guest chose 500
				checkGenericBody(t, rec.Body.String(), rec.Header().Get("X-Request-Id"))
			}
		default:
			if rec.Code < 100 || rec.Code > 599 {
				t.Fatalf("invalid status %d", rec.Code)
			}
		}
		if s := p.Stats(); s.Live > s.PoolSize {
			t.Fatalf("pool over its bound: %+v", s)
		}
	})
}

// FuzzKVFunctions calls kv_* function number fn (kvcall's order; past the
// end calls nothing) with fuzz-chosen arguments and data through the kvcall
// guest, against a real embedded store. Whatever the arguments, the host
// must not panic and must answer 200 (the call returned a status) or 500
// (the guest broke the ABI: memory outside its own), and a 200's status
// must be one the ABI defines.
//
//	go test ./host -run '^$' -fuzz FuzzKVFunctions -fuzztime 60s
func FuzzKVFunctions(f *testing.F) {
	for fn := range uint8(kvLastError + 1) {
		f.Add(fn, uint32(kvData), uint32(3), uint32(kvOut), uint32(64), uint32(0), uint32(kvOut+64), uint32(0), []byte("key"))
		f.Add(fn, uint32(oob), uint32(huge), uint32(edge), uint32(32), uint32(0xffffffff), uint32(edge), uint32(7), []byte{})
		f.Add(fn, uint32(kvData), uint32(300), uint32(kvData), uint32(0x7fffffff), uint32(1), uint32(0), uint32(0), bytes.Repeat([]byte{0}, 300))
	}
	store, _ := embeddedStore(f)
	p := newPlugin(f, wat(f, "kvcall"), host.Config{PoolSize: 1, KV: store, KVMaxValue: 1 << 10, KVTimeout: 2 * time.Second})
	f.Fuzz(func(t *testing.T, fn uint8, a0, a1, a2, a3, a4, a5, a6 uint32, data []byte) {
		if len(data) > 0x8000 {
			data = data[:0x8000]
		}
		c := kvReq{fn: uint32(fn), args: []uint32{a0, a1, a2, a3, a4, a5, a6, 0}, data: data}
		rec, aborted := serveOrAbort(t, p, newReq(http.MethodPost, "/", c.body()))
		if aborted {
			t.Fatal("aborted")
		}
		switch rec.Code {
		case http.StatusOK:
			b := rec.Body.Bytes()
			if len(b) < 12 {
				t.Fatalf("short answer %q", b)
			}
			r := binary.LittleEndian.Uint64(b)
			var s abi.Status
			switch fn {
			case kvGet:
				s = abi.StatusLen(r).Status()
			case kvKeys:
				s = abi.KeysResult(r).Status()
			case kvLastError:
			default:
				s = abi.Status(r)
			}
			if s > abi.StatusFailed {
				t.Fatalf("fn %d answered status %d", fn, s)
			}
		case http.StatusInternalServerError:
			checkGenericBody(t, rec.Body.String(), rec.Header().Get("X-Request-Id"))
		default:
			t.Fatalf("fn %d: HTTP %d", fn, rec.Code)
		}
	})
}
