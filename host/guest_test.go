package host_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

func TestHello(t *testing.T) {
	wasm := wat(t, "hello")
	p := newPlugin(t, wasm, host.Config{PoolSize: 1})
	for range 3 {
		wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
	}
	sum := sha256.Sum256(wasm)
	if got, want := p.Hash(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Hash() = %s, want %s", got, want)
	}
	if s := p.Stats(); s.Requests != 3 || s.Traps != 0 {
		t.Errorf("Stats after 3 good requests: %+v", s)
	}
	checkPoolIdle(t, p)
}

// TestDefaultNextIs404: with no Next and no Upstream, next is a built-in 404.
func TestDefaultNextIs404(t *testing.T) {
	p := newPlugin(t, wat(t, "next"), host.Config{})
	if rec := serve(t, p, get("/missing")); rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
}

func TestNextPassthrough(t *testing.T) {
	var calls atomic.Int32
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-From-Next", r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-In"))
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "from next")
	})
	p := newPlugin(t, wat(t, "next"), host.Config{Next: next})
	rec := serve(t, p, newReq(http.MethodPut, "/a/b?c=d", nil, "X-In", "v"))
	wantResponse(t, rec, http.StatusTeapot, "from next")
	if got := rec.Header().Get("X-From-Next"); got != "PUT /a/b?c=d v" {
		t.Errorf("next saw %q", got)
	}
	if calls.Load() != 1 {
		t.Errorf("next called %d times", calls.Load())
	}
}

// nextResponse is the next handler of the handle_response tests: status 203,
// a header the guest removes, and a body with a Content-Length.
var nextResponse = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Next-Remove", "yes")
	w.Header().Set("Content-Length", "9")
	w.WriteHeader(http.StatusNonAuthoritativeInfo)
	io.WriteString(w, "from-next")
})

func TestHandleResponseBuffered(t *testing.T) {
	p := newPlugin(t, wat(t, "response"), host.Config{Next: nextResponse, GuestConfig: []byte("buffer")})
	for range 2 { // twice: per-request features must not leak into the next request's state
		rec := serve(t, p, get("/"))
		wantResponse(t, rec, http.StatusCreated, "rewritten:from-next")
		h := rec.Header()
		if h.Get("X-Before") != "1" || h.Get("X-After") != "1" {
			t.Errorf("headers set before/after next missing: %v", h)
		}
		if h.Get("X-Next-Remove") != "" {
			t.Errorf("header removed in handle_response still sent: %v", h)
		}
		// next said 9 bytes; the guest wrote 19.
		if cl := h.Get("Content-Length"); cl != "" && cl != "19" {
			t.Errorf("stale Content-Length %q for a 19-byte body", cl)
		}
	}
	if s := p.Stats(); s.Traps != 0 {
		t.Errorf("guest trapped (wrong ctx or status seen in handle_response): %+v", s)
	}
}

func TestHandleResponseUnbuffered(t *testing.T) {
	logger, logs := captureLogger(slog.LevelDebug)
	p := newPlugin(t, wat(t, "response"), host.Config{Next: nextResponse, Logger: logger, Name: "resp-plugin"})
	rec := serve(t, p, get("/"))
	wantResponse(t, rec, http.StatusNonAuthoritativeInfo, "from-next")
	if rec.Header().Get("X-Before") != "1" || rec.Header().Get("X-Next-Remove") != "yes" {
		t.Errorf("headers: %v", rec.Header())
	}
	// handle_response ran, with ctx 42 (else it traps before logging).
	if got := logs.find("after-next"); len(got) != 1 {
		t.Errorf("handle_response log: got %v, all logs: %v", got, logs.all())
	}
	if s := p.Stats(); s.Traps != 0 {
		t.Errorf("guest trapped: %+v", s)
	}
}

// TestRequestBodyReplay: the guest reads the whole body with buffer_request;
// next must still receive every byte.
func TestRequestBodyReplay(t *testing.T) {
	var nextGot atomic.Pointer[[]byte]
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		nextGot.Store(&b)
		w.Header().Set("X-Guest-Len", r.Header.Get("X-Guest-Len"))
		w.Header().Set("X-Guest-Fnv", r.Header.Get("X-Guest-Fnv"))
		io.WriteString(w, "next ok")
	})
	p := newPlugin(t, wat(t, "body"), host.Config{Next: next})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 4095, 4096, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := make([]byte, size)
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			nextGot.Store(nil)
			rec := serve(t, p, newReq(http.MethodPost, "/upload", body))
			wantResponse(t, rec, http.StatusOK, "next ok")
			h := fnv.New32a()
			h.Write(body)
			if got := rec.Header().Get("X-Guest-Len"); got != strconv.Itoa(size) {
				t.Errorf("guest read %s bytes, want %d", got, size)
			}
			if got := rec.Header().Get("X-Guest-Fnv"); got != strconv.FormatUint(uint64(h.Sum32()), 10) {
				t.Errorf("guest read other bytes: fnv %s, want %d", got, h.Sum32())
			}
			got := nextGot.Load()
			if got == nil || !bytes.Equal(*got, body) {
				n := -1
				if got != nil {
					n = len(*got)
				}
				t.Errorf("next received %d bytes, want the same %d bytes", n, size)
			}
		})
	}
}

func TestRequestBodyTooLarge(t *testing.T) {
	var nextCalled atomic.Bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nextCalled.Store(true) })
	p := newPlugin(t, wat(t, "body"), host.Config{Next: next, MaxRequestBody: 1000})
	rec := serve(t, p, newReq(http.MethodPost, "/", make([]byte, 1001)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if nextCalled.Load() {
		t.Error("next was called for a too-large body")
	}
	if s := p.Stats(); s.TooLarge != 1 {
		t.Errorf("Stats.TooLarge = %d, want 1", s.TooLarge)
	}
	// exactly at the limit is fine
	wantResponse(t, serve(t, p, newReq(http.MethodPost, "/", make([]byte, 1000))), http.StatusOK, "")

	// chunked (no Content-Length): caught while the guest reads
	nextCalled.Store(false)
	r := httptest.NewRequest(http.MethodPost, "/", struct{ io.Reader }{bytes.NewReader(make([]byte, 5000))})
	if r.ContentLength != -1 {
		t.Fatalf("test request has ContentLength %d, want chunked", r.ContentLength)
	}
	if rec := serve(t, p, r); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d %q, want 413", rec.Code, rec.Body.String())
	}
	if nextCalled.Load() {
		t.Error("next was called for a too-large body")
	}
	if s := p.Stats(); s.TooLarge != 2 || s.Traps != 0 {
		t.Errorf("Stats after two 413s: %+v", s)
	}
}

func TestGetConfig(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 4096) // 64 KiB, more than one guest read
	for name, cfg := range map[string]string{"empty": "", "short": "hello config", "64KiB": big} {
		t.Run(name, func(t *testing.T) {
			p := newPlugin(t, wat(t, "config"), host.Config{GuestConfig: []byte(cfg)})
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, cfg)
		})
	}
}

func TestLogLevels(t *testing.T) {
	levels := []struct {
		level slog.Level
		want  string // log_enabled for debug, info, warn, error
	}{
		{slog.LevelDebug, "1111"},
		{slog.LevelInfo, "0111"},
		{slog.LevelWarn, "0011"},
		{slog.LevelError, "0001"},
	}
	msgs := []struct {
		text  string
		level slog.Level
	}{
		{"debug-msg", slog.LevelDebug}, {"info-msg", slog.LevelInfo},
		{"warn-msg", slog.LevelWarn}, {"error-msg", slog.LevelError},
	}
	for _, tc := range levels {
		t.Run(tc.level.String(), func(t *testing.T) {
			logger, logs := captureLogger(tc.level)
			p := newPlugin(t, wat(t, "log"), host.Config{Logger: logger, Name: "log-plugin"})
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, tc.want)
			for i, m := range msgs {
				got := logs.find(m.text)
				if tc.want[i] == '0' {
					if len(got) != 0 {
						t.Errorf("%s logged though disabled: %v", m.text, got)
					}
					continue
				}
				if len(got) != 1 {
					t.Errorf("%s: got %v, want one record", m.text, got)
					continue
				}
				if got[0].Level != m.level {
					t.Errorf("%s logged at %s, want %s", m.text, got[0].Level, m.level)
				}
				if !got[0].has("log-plugin") {
					t.Errorf("%s not tagged with the plugin name: %v", m.text, got[0])
				}
			}
		})
	}
}

// TestNextZeroWithCtx: next=0 with a non-zero ctx must neither call next nor
// handle_response, and must give the instance back (the reference host leaks
// a slot here).
func TestNextZeroWithCtx(t *testing.T) {
	var nextCalls atomic.Int32
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nextCalls.Add(1) })
	p := newPlugin(t, wat(t, "ctx"), host.Config{Next: next, PoolSize: 2})
	for i := range 20 { // 10x the pool size
		mode := "a" // 7<<32 | 0
		if i%2 == 1 {
			mode = "b" // 16<<32 | 16: low bits are not 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rec := serve(t, p, get("/", "x-mode", mode).WithContext(ctx))
		cancel()
		wantResponse(t, rec, http.StatusOK, "ok")
	}
	if n := nextCalls.Load(); n != 0 {
		t.Errorf("next called %d times; low 32 bits were never 1", n)
	}
	if s := p.Stats(); s.Traps != 0 {
		t.Errorf("handle_response ran after next=0 (it traps): %+v", s)
	}
	checkPoolIdle(t, p)
}

// TestInstanceReuse: a pooled instance runs _initialize once and then serves
// request after request (no instantiation on the hot path).
func TestInstanceReuse(t *testing.T) {
	p := newPlugin(t, wat(t, "init"), host.Config{PoolSize: 1})
	before := p.Stats().Instantiations
	for i := 1; i <= 5; i++ {
		wantResponse(t, serve(t, p, get("/")), http.StatusOK, "1,"+strconv.Itoa(i))
	}
	if s := p.Stats(); s.Instantiations != before {
		t.Errorf("instantiations went from %d to %d while serving", before, s.Instantiations)
	}
}

func TestStartReactor(t *testing.T) {
	p := newPlugin(t, wat(t, "load/start_ok"), host.Config{PoolSize: 1})
	for range 2 {
		wantResponse(t, serve(t, p, get("/")), http.StatusOK, "started")
	}
}

// TestBufferRule: a buf_limit smaller than the value returns the length and
// writes nothing; equal to it writes exactly the value.
func TestBufferRule(t *testing.T) {
	p := newPlugin(t, wat(t, "bufrule"), host.Config{})
	rec := serve(t, p, get("/some/path?q=1", "x-multi", "a", "x-multi", "b"))
	want := "14|################|14|/some/path?q=1##|2,4|########|a0b0####"
	wantResponse(t, rec, http.StatusOK, want)
}

// TestStreamedGuestBody: a guest body larger than the host buffers is
// streamed, whole and with the status and headers set before it; a guest
// that fails mid-stream gets its response cut, never passed off as whole.
func TestStreamedGuestBody(t *testing.T) {
	p := newPlugin(t, wat(t, "bigbody"), host.Config{PoolSize: 1})
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(i % 251)
	}
	rec := serve(t, p, get("/"))
	if rec.Code != http.StatusCreated || rec.Header().Get("X-Early") != "1" {
		t.Errorf("status %d headers %v, want 201 with X-Early", rec.Code, rec.Header())
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("body: %d bytes, want the 1 MiB pattern", rec.Body.Len())
	}
	if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(want)) {
		t.Errorf("Content-Length %s for a %d-byte body", cl, len(want))
	}

	rec, aborted := serveOrAbort(t, p, get("/", "x-mode", "t"))
	if !aborted && rec.Code != http.StatusInternalServerError {
		t.Errorf("guest trapped mid-stream: got %d with %d body bytes and no abort", rec.Code, rec.Body.Len())
	}
	if s := p.Stats(); s.Traps != 1 {
		t.Errorf("Stats.Traps = %d, want 1", s.Traps)
	}
	checkPoolIdle(t, p)
	if rec := serve(t, p, get("/again")); rec.Code != http.StatusCreated || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("after the trap: %d with %d body bytes", rec.Code, rec.Body.Len())
	}
}

// TestFeatureScope: enable_features during _initialize is the instance's
// default for every request; inside a request it lasts for that request
// only (PoolSize 1, so every request meets the same instance until a trap).
func TestFeatureScope(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from-next") })
	p := newPlugin(t, wat(t, "features"), host.Config{Next: next, PoolSize: 1})
	// default from _initialize: trailers usable without asking
	wantResponse(t, serve(t, p, get("/", "x-mode", "t")), http.StatusOK, "t")
	// per request: buffer_response lets handle_response set the status
	wantResponse(t, serve(t, p, get("/", "x-mode", "b")), 299, "from-next")
	// ... and is gone on the next request on the same instance: setting the
	// status after next now breaks the rules; next's answer stands or is cut.
	rec, aborted := serveOrAbort(t, p, get("/"))
	if !aborted && (rec.Code != http.StatusOK || rec.Body.String() != "from-next") {
		t.Errorf("buffer_response leaked into the next request: %d %q", rec.Code, rec.Body.String())
	}
	if s := p.Stats(); s.Traps != 1 {
		t.Errorf("Stats.Traps = %d, want 1 (set_status_code after next without buffer_response)", s.Traps)
	}
	// the replacement instance ran _initialize too
	wantResponse(t, serve(t, p, get("/", "x-mode", "t")), http.StatusOK, "t")
}
