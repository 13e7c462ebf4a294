package host_test

import (
	"context"
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
