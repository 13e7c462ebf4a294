package host_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
)

// loopOutbound is a host.Outbound for host tests: a real transport to
// loopback servers, allowing one host, counting response bodies not yet
// closed (so a test sees whether the host closed every call).
type loopOutbound struct {
	allow string // host:port
	open  atomic.Int64
}

type deniedErr string

func (e deniedErr) Error() string      { return string(e) }
func (e deniedErr) Status() abi.Status { return abi.StatusDenied }

func (o *loopOutbound) Check(req *http.Request) error {
	if req.URL.Host != o.allow {
		return deniedErr("http://" + req.URL.Host + " is not in outbound.allow")
	}
	return nil
}

func (o *loopOutbound) Do(req *http.Request) (*http.Response, error) {
	if err := o.Check(req); err != nil {
		return nil, err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	o.open.Add(1)
	resp.Body = &countedBody{ReadCloser: resp.Body, o: o}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	o    *loopOutbound
	done atomic.Bool
}

func (b *countedBody) Close() error {
	if b.done.CompareAndSwap(false, true) {
		b.o.open.Add(-1)
	}
	return b.ReadCloser.Close()
}

// obServer echoes: its answer says the method, the x-t header and the body
// it got; /big answers n bytes (?n=).
func obServer(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			<-r.Context().Done()
			return
		}
		if r.URL.Path == "/big" {
			w.Write([]byte(strings.Repeat("b", 100)))
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-T"))
		w.Header().Add("X-Multi", "1")
		w.Header().Add("X-Multi", "2")
		fmt.Fprintf(w, "%s host=%s body=%s", r.Method, r.Host, b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// obProg is a program for the outbound guest (testdata/outbound.wat).
type obProg struct {
	recs []uint32
	data []byte
}

// strings follow room for 16 records
const obData = 0x1000 + 4 + 16*24

func (p *obProg) str(s string) (ptr, n uint32) {
	ptr = uint32(obData + len(p.data))
	p.data = append(p.data, s...)
	return ptr, uint32(len(s))
}

func (p *obProg) call(fn uint32, args ...uint32) *obProg {
	rec := make([]uint32, 6)
	rec[0] = fn
	copy(rec[1:], args)
	p.recs = append(p.recs, rec...)
	return p
}

func (p *obProg) body() []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(p.recs)/6))
	for _, v := range p.recs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = append(b, make([]byte, obData-0x1000-len(b))...)
	return append(b, p.data...)
}

const (
	obOpen = iota
	obAddHeader
	obWrite
	obSend
	obNames
	obValues
	obRead
	obClose
	obLastError
)

// run serves prog and returns each call's result.
func (p *obProg) run(t *testing.T, pl *host.Plugin) []uint64 {
	t.Helper()
	rec, _ := serveOrAbort(t, pl, newReq("POST", "/", p.body()))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	out := make([]uint64, rec.Body.Len()/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(rec.Body.Bytes()[8*i:])
	}
	return out
}

// mem reads guest memory through a last_error-free path: the test reads
// what it needs from the results instead; this is the buffer the program
// names for read_body and header calls.
const obBuf = 0x3000

func newObPlugin(t *testing.T, out host.Outbound, grant host.OutboundGrant) *host.Plugin {
	return newPlugin(t, wat(t, "outbound"), host.Config{PoolSize: 1, Outbound: out, OutboundGrant: grant,
		RequestTimeout: 20 * time.Second})
}

func TestOutboundNotGranted(t *testing.T) {
	p := newPlugin(t, wat(t, "outbound"), host.Config{PoolSize: 1})
	prog := &obProg{}
	m, ml := prog.str("GET")
	u, ul := prog.str("http://127.0.0.1:3000/data")
	prog.call(obOpen, m, ml, u, ul).call(obLastError, obBuf, 512)
	res := prog.run(t, p)
	if s := abi.StatusLen(res[0]).Status(); s != abi.StatusNotGranted {
		t.Fatalf("open: %v, want not_granted", s)
	}
	want := "outbound: http://127.0.0.1:3000 is not in outbound.allow (outbound HTTP is not granted: outbound.allow is empty)"
	if res[1] != uint64(len(want)) {
		t.Fatalf("last_error length %d, want %d (%q)", res[1], len(want), want)
	}
}

func TestOutboundCall(t *testing.T) {
	srv := obServer(t)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newObPlugin(t, o, host.OutboundGrant{})
	prog := &obProg{}
	m, ml := prog.str("POST")
	u, ul := prog.str(srv.URL + "/echo")
	hn, hnl := prog.str("x-t")
	hv, hvl := prog.str("v1")
	hh, hhl := prog.str("Host")
	evil, evill := prog.str("internal.admin")
	c1, c1l := prog.str("abc")
	c2, c2l := prog.str("def")
	mn, mnl := prog.str("x-multi")
	prog.call(obOpen, m, ml, u, ul). // 0: handle 1
						call(obAddHeader, 1, hn, hnl, hv, hvl).     // 1
						call(obAddHeader, 1, hh, hhl, evil, evill). // 2: ignored
						call(obWrite, 1, c1, c1l).                  // 3: streams
						call(obWrite, 1, c2, c2l).                  // 4
						call(obAddHeader, 1, hn, hnl, hv, hvl).     // 5: too late
						call(obSend, 1).                            // 6: 200
						call(obValues, 1, mn, mnl, obBuf, 64).      // 7: "1\0002\000"
						call(obRead, 1, obBuf, 4096).               // 8
						call(obRead, 1, obBuf, 4096).               // 9: eof
						call(obClose, 1).                           // 10
						call(obClose, 1)                            // 11: gone
	res := prog.run(t, p)
	want := fmt.Sprintf("POST host=%s body=abcdef", o.allow)
	checks := []struct {
		i    int
		got  uint64
		want uint64
	}{
		{0, res[0], uint64(abi.NewStatusLen(abi.StatusOK, 1))},
		{1, res[1], uint64(abi.StatusOK)},
		{2, res[2], uint64(abi.StatusOK)},
		{3, res[3], uint64(abi.StatusOK)},
		{4, res[4], uint64(abi.StatusOK)},
		{5, res[5], uint64(abi.StatusInvalid)},
		{6, res[6], uint64(abi.NewStatusLen(abi.StatusOK, 200))},
		{7, res[7], uint64(abi.NewStatusLen(abi.StatusOK, 4))},
		{10, res[10], uint64(abi.StatusOK)},
		{11, res[11], uint64(abi.StatusInvalid)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("call %d: %#x, want %#x", c.i, c.got, c.want)
		}
	}
	r1, r2 := abi.StatusEOFLen(res[8]), abi.StatusEOFLen(res[9])
	if total := r1.Len() + r2.Len(); r1.Status() != abi.StatusOK || total != uint32(len(want)) || !(r1.EOF() || r2.EOF()) {
		t.Errorf("reads %v/%d/%v then %v/%d/%v, want %d bytes then eof", r1.Status(), r1.Len(), r1.EOF(), r2.Status(), r2.Len(), r2.EOF(), len(want))
	}
	if n := o.open.Load(); n != 0 {
		t.Errorf("%d response bodies left open", n)
	}
}

// Handles still open when the request ends are closed by the host; past
// OutboundMaxHandles an open fails; unknown handles are StatusInvalid.
func TestOutboundHandles(t *testing.T) {
	srv := obServer(t)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newObPlugin(t, o, host.OutboundGrant{})
	prog := &obProg{}
	m, ml := prog.str("GET")
	u, ul := prog.str(srv.URL + "/x")
	for range abi.OutboundMaxHandles {
		prog.call(obOpen, m, ml, u, ul)
	}
	prog.call(obOpen, m, ml, u, ul).call(obSend, 1).call(obSend, 2).call(obSend, 0).call(obSend, 99).call(obRead, 3, obBuf, 16)
	res := prog.run(t, p)
	n := abi.OutboundMaxHandles
	if s := abi.StatusLen(res[n]).Status(); s != abi.StatusTooLarge {
		t.Errorf("open #%d: %v, want too_large", n+1, s)
	}
	if res[n+1] != uint64(abi.NewStatusLen(abi.StatusOK, 200)) || res[n+2] != res[n+1] {
		t.Errorf("sends: %#x %#x", res[n+1], res[n+2])
	}
	for i, r := range []uint64{res[n+3], res[n+4], res[n+5]} {
		if s := abi.StatusLen(r).Status(); s != abi.StatusInvalid {
			t.Errorf("bad handle call %d: %v, want invalid", i, s)
		}
	}
	if got := o.open.Load(); got != 0 {
		t.Errorf("%d response bodies open after the request ended", got)
	}
}

func TestOutboundDeniedAndTooLarge(t *testing.T) {
	srv := obServer(t)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newObPlugin(t, o, host.OutboundGrant{MaxResponseBody: 10})
	prog := &obProg{}
	m, ml := prog.str("GET")
	bad, badl := prog.str("http://10.255.255.1:9/")
	u, ul := prog.str(srv.URL + "/big")
	weird, weirdl := prog.str("ftp://x/")
	prog.call(obOpen, m, ml, bad, badl).
		call(obOpen, m, ml, u, ul).call(obSend, 1).
		call(obRead, 1, obBuf, 4).call(obRead, 1, obBuf, 4096).
		call(obOpen, m, ml, weird, weirdl).call(obRead, 1, obBuf, 4096)
	res := prog.run(t, p)
	if s := abi.StatusLen(res[0]).Status(); s != abi.StatusDenied {
		t.Errorf("refused target: %v, want denied", s)
	}
	if r := abi.StatusEOFLen(res[3]); r.Status() != abi.StatusOK || r.Len() != 4 {
		t.Errorf("first read: %v %d", r.Status(), r.Len())
	}
	if s := abi.StatusEOFLen(res[4]).Status(); s != abi.StatusTooLarge {
		t.Errorf("read past max_response_body: %v, want too_large", s)
	}
	if s := abi.StatusLen(res[5]).Status(); s != abi.StatusInvalid {
		t.Errorf("ftp URL: %v, want invalid", s)
	}
	if s := abi.StatusEOFLen(res[6]).Status(); s != abi.StatusTooLarge {
		t.Errorf("read after the cap: %v, want too_large again", s)
	}
	if got := p.Stats().Outbound; got["10.255.255.1:9 denied"] != 1 || got[o.allow+" too_large"] != 1 {
		t.Errorf("stats %v", got)
	}
}

// FuzzOutboundFunctions runs fuzz-chosen sequences of outbound calls with
// fuzz-chosen arguments against a loopback server. The host never panics,
// answers 200 (or 500 when the guest broke the ABI, e.g. a pointer outside
// its memory), and no call outlives its request.
//
// Minimizing a new input of a few hundred bytes runs it thousands of times,
// each with real HTTP calls: bound it.
//
//	go test ./host -run '^$' -fuzz FuzzOutboundFunctions -fuzztime 60s -fuzzminimizetime 2s
func FuzzOutboundFunctions(f *testing.F) {
	srv := obServer(f)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newPlugin(f, wat(f, "outbound"), host.Config{PoolSize: 2, Outbound: o, RequestTimeout: 10 * time.Second,
		OutboundGrant: host.OutboundGrant{MaxResponseBody: 64}})
	seed := &obProg{}
	m, ml := seed.str("GET")
	u, ul := seed.str(srv.URL + "/x")
	seed.call(obOpen, m, ml, u, ul).call(obWrite, 1, u, ul).call(obSend, 1).call(obNames, 1, obBuf, 8).
		call(obRead, 1, obBuf, 8).call(obLastError, obBuf, 8)
	f.Add(seed.body(), uint32(0))
	f.Add(seed.body(), uint32(0xffff_ff00))
	f.Fuzz(func(t *testing.T, body []byte, poke uint32) {
		if len(body) >= 8 && poke != 0 {
			binary.LittleEndian.PutUint32(body[4+4*int(poke%uint32(min(len(body)/4-1, 96))):], poke)
		}
		rec, aborted := serveOrAbort(t, p, newReq("POST", "/", body))
		if !aborted && rec.Code != 200 && rec.Code != 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if n := o.open.Load(); n != 0 {
			t.Fatalf("%d calls outlived their request", n)
		}
	})
}

// outbound.timeout passing is a timeout status for the guest, which goes on
// and answers; the request's own deadline is not reached.
func TestOutboundTimeout(t *testing.T) {
	srv := obServer(t)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newObPlugin(t, o, host.OutboundGrant{Timeout: 200 * time.Millisecond})
	prog := &obProg{}
	m, ml := prog.str("GET")
	u, ul := prog.str(srv.URL + "/hang")
	prog.call(obOpen, m, ml, u, ul).call(obSend, 1).call(obLastError, obBuf, 512)
	res := prog.run(t, p)
	if s := abi.StatusLen(res[1]).Status(); s != abi.StatusTimeout {
		t.Fatalf("send to a server that never answers: %v, want timeout", s)
	}
	want := "outbound: GET " + srv.URL + "/hang: no complete answer within outbound.timeout (200ms)"
	if res[2] != uint64(len(want)) {
		t.Errorf("last_error length %d, want %d (%q)", res[2], len(want), want)
	}
}

// A request that ends while a streamed call is still sending its body: the
// host cancels the call and the request is answered.
func TestOutboundStreamedCallEndsWithRequest(t *testing.T) {
	srv := obServer(t)
	o := &loopOutbound{allow: strings.TrimPrefix(srv.URL, "http://")}
	p := newObPlugin(t, o, host.OutboundGrant{})
	prog := &obProg{}
	m, ml := prog.str("POST")
	u, ul := prog.str(srv.URL + "/echo")
	c, cl := prog.str("partial")
	prog.call(obOpen, m, ml, u, ul).call(obWrite, 1, c, cl)
	res := prog.run(t, p)
	if res[1] != uint64(abi.StatusOK) {
		t.Fatalf("write: %#x", res[1])
	}
	if n := o.open.Load(); n != 0 {
		t.Errorf("%d calls outlived their request", n)
	}
}
