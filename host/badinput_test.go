package host_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
)

func TestTrap(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "next") })
	// PoolSize 1: the trapped instance must be replaced, not reused.
	p := newPlugin(t, wat(t, "trap"), host.Config{Next: next, PoolSize: 1})
	for _, mode := range []string{"t", "r"} { // in handle_request; in handle_response (buffered)
		t.Run(mode, func(t *testing.T) {
			rec := serve(t, p, get("/", "x-mode", mode, "X-Request-Id", "req-"+mode+"-42"))
			wantGuestFailure(t, rec)
			if got := rec.Header().Get("X-Request-Id"); got != "req-"+mode+"-42" {
				t.Errorf("X-Request-Id %q, want the client's", got)
			}
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, "ok")
		})
	}
	// without a client id the host makes one up
	rec := serve(t, p, get("/", "x-mode", "t"))
	wantGuestFailure(t, rec)
	if s := p.Stats(); s.Traps != 3 {
		t.Errorf("Stats.Traps = %d, want 3", s.Traps)
	}
	checkPoolIdle(t, p)
}

// TestInfiniteLoop: a spinning guest is cut at the timeout (504) while other
// requests to the same plugin keep being served.
func TestInfiniteLoop(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "next") })
	p := newPlugin(t, wat(t, "loop"), host.Config{Next: next, PoolSize: 3, RequestTimeout: 300 * time.Millisecond})
	// loop in handle_request; in handle_response, buffered; in
	// handle_response after next's response went out (may abort).
	for _, mode := range []string{"l", "b", "r"} {
		t.Run(mode, func(t *testing.T) {
			done := make(chan served, 1)
			go func() {
				done <- httptestServe(p, get("/", "x-mode", mode))
			}()
			// Served meanwhile (no timing assertion: if the process froze these
			// would hang until the test's deadline).
			for range 20 {
				wantResponse(t, serve(t, p, get("/fast")), http.StatusOK, "fast")
			}
			select {
			case got := <-done:
				if mode == "r" && (got.code == aborted || got == served{http.StatusOK, "next"}) {
					break // next's answer was out already: it stands, or is cut
				}
				if got.code != http.StatusGatewayTimeout {
					t.Fatalf("looping guest answered %d %q, want 504", got.code, got.body)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("looping guest not stopped 30 s after a 300 ms timeout")
			}
			wantResponse(t, serve(t, p, get("/fast")), http.StatusOK, "fast")
		})
	}
	if s := p.Stats(); s.Timeouts != 3 {
		t.Errorf("Stats.Timeouts = %d, want 3", s.Timeouts)
	}
	checkPoolIdle(t, p)
}

// Pseudo status codes of httptestServe.
const (
	panicked = -1
	aborted  = -2 // panic(http.ErrAbortHandler)
)

type served struct {
	code int
	body string
}

// httptestServe is serve without a testing.TB, for goroutines; it returns
// the status code (or panicked or aborted) and body.
func httptestServe(h http.Handler, r *http.Request) (s served) {
	defer func() {
		if v := recover(); v != nil {
			s.code = panicked
			if v == http.ErrAbortHandler {
				s.code = aborted
			}
		}
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return served{rec.Code, rec.Body.String()}
}

// TestInfiniteLoopSurvivesGC runs a looping guest while the Go runtime
// collects garbage. A guest that never reaches a safe point would stop the
// world forever (DESIGN.md §4), so this runs in a child process that the
// test can kill.
func TestInfiniteLoopSurvivesGC(t *testing.T) {
	if os.Getenv("HOST_TEST_LOOP_GC_CHILD") == "1" {
		loopGCChild(t)
		return
	}
	wat(t, "loop") // skip early without wat2wasm
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestInfiniteLoopSurvivesGC$", "-test.v")
	cmd.Env = append(os.Environ(), "HOST_TEST_LOOP_GC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("process froze: GC while a guest loops did not finish in 60 s\n%s", out)
	}
	if err != nil || !strings.Contains(string(out), "loop-gc-child-ok") {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
}

func loopGCChild(t *testing.T) {
	p := newPlugin(t, wat(t, "loop"), host.Config{PoolSize: 2, RequestTimeout: 2 * time.Second})
	done := make(chan served, 1)
	go func() { done <- httptestServe(p, get("/", "x-mode", "l")) }()
	time.Sleep(100 * time.Millisecond) // let the guest start spinning
	for range 3 {
		runtime.GC()
		wantResponse(t, serve(t, p, get("/fast")), http.StatusOK, "fast")
	}
	if got := <-done; got.code != http.StatusGatewayTimeout {
		t.Fatalf("looping guest answered %d %q, want 504", got.code, got.body)
	}
	t.Log("loop-gc-child-ok")
}

// TestMemoryBomb: memory.grow fails (-1) at the cap inside the guest; a guest
// that then traps answers 500; the plugin keeps serving.
func TestMemoryBomb(t *testing.T) {
	p := newPlugin(t, wat(t, "membomb"), host.Config{PoolSize: 1, MemoryLimitPages: 64})
	for range 3 {
		wantResponse(t, serve(t, p, get("/", "x-mode", "g")), http.StatusOK, "64")
	}
	wantGuestFailure(t, serve(t, p, get("/", "x-mode", "t")))
	wantResponse(t, serve(t, p, get("/")), http.StatusOK, "ok")
	checkPoolIdle(t, p)
}

// hostCall is the request body of the hostcall guest: which host function
// to call (index in abi.HostFuncs) and its arguments.
func hostCall(fn string, args ...uint32) []byte {
	idx := uint32(len(abi.HostFuncs)) // calls nothing
	for i, name := range abi.HostFuncs {
		if name == fn {
			idx = uint32(i)
		}
	}
	return hostCallBody(idx, args...)
}

func hostCallBody(idx uint32, args ...uint32) []byte {
	b := make([]byte, 28)
	binary.LittleEndian.PutUint32(b, idx)
	for i, a := range args {
		binary.LittleEndian.PutUint32(b[4+4*i:], a)
	}
	return b
}

// Addresses in the hostcall guest's single 64 KiB page.
const (
	oob     = 0xFFFF_FF00 // far past the memory
	edge    = 0xFFF0      // 16 bytes before the end of memory
	huge    = 0x7FFF_FFFF
	xaName  = 0x40 // "x-a"
	okBytes = 0x50 // "ok"
	badKind = 99
)

// TestBadHostArgs: out-of-range pointers and lengths and bad kinds fail the
// request (500), never the host; the next request is fine.
func TestBadHostArgs(t *testing.T) {
	cases := []struct {
		name string
		body []byte
	}{
		{"get_config/oob", hostCall(abi.FuncGetConfig, oob, huge)},
		{"get_config/straddles_end", hostCall(abi.FuncGetConfig, 0xFFFE, 16)},
		{"log/oob", hostCall(abi.FuncLog, 0, oob, 10)},
		{"log/huge_len", hostCall(abi.FuncLog, 0, 0, 0xFFFF_FFFF)},
		{"log/wraps", hostCall(abi.FuncLog, 0, 0xFFFF_FFF0, 0x20)},
		{"get_method/oob", hostCall(abi.FuncGetMethod, oob, huge)},
		{"get_method/straddles_end", hostCall(abi.FuncGetMethod, 0xFFFE, 100)},
		{"set_method/oob", hostCall(abi.FuncSetMethod, oob, 3)},
		{"set_method/len_past_end", hostCall(abi.FuncSetMethod, edge, 17)},
		{"get_uri/oob", hostCall(abi.FuncGetURI, oob, huge)},
		{"set_uri/oob", hostCall(abi.FuncSetURI, oob, 3)},
		{"get_protocol_version/oob", hostCall(abi.FuncGetProtocolVersion, oob, huge)},
		{"get_header_names/bad_kind", hostCall(abi.FuncGetHeaderNames, badKind, 0, 1024)},
		{"get_header_names/oob", hostCall(abi.FuncGetHeaderNames, 0, oob, huge)},
		{"get_header_values/bad_kind", hostCall(abi.FuncGetHeaderValues, badKind, xaName, 3, 0x100, 256)},
		{"get_header_values/oob_name", hostCall(abi.FuncGetHeaderValues, 0, oob, 3, 0x100, 256)},
		{"get_header_values/oob_buf", hostCall(abi.FuncGetHeaderValues, 0, xaName, 3, oob, huge)},
		{"set_header_value/bad_kind", hostCall(abi.FuncSetHeaderValue, badKind, xaName, 3, okBytes, 2)},
		{"set_header_value/oob_name", hostCall(abi.FuncSetHeaderValue, 1, oob, 3, okBytes, 2)},
		{"set_header_value/oob_value", hostCall(abi.FuncSetHeaderValue, 1, xaName, 3, oob, 2)},
		{"add_header_value/bad_kind", hostCall(abi.FuncAddHeaderValue, badKind, xaName, 3, okBytes, 2)},
		{"add_header_value/oob_name", hostCall(abi.FuncAddHeaderValue, 1, oob, 3, okBytes, 2)},
		{"add_header_value/oob_value", hostCall(abi.FuncAddHeaderValue, 1, xaName, 3, oob, 2)},
		{"remove_header/bad_kind", hostCall(abi.FuncRemoveHeader, badKind, xaName, 3)},
		{"remove_header/oob_name", hostCall(abi.FuncRemoveHeader, 1, oob, 3)},
		{"read_body/bad_kind", hostCall(abi.FuncReadBody, badKind, 0x100, 256)},
		{"read_body/oob", hostCall(abi.FuncReadBody, 0, oob, huge)},
		{"write_body/bad_kind", hostCall(abi.FuncWriteBody, badKind, okBytes, 2)},
		{"write_body/oob", hostCall(abi.FuncWriteBody, 1, oob, 2)},
		{"write_body/huge_len", hostCall(abi.FuncWriteBody, 1, 0, 0xFFFF_FFFF)},
		{"set_status_code/0", hostCall(abi.FuncSetStatusCode, 0)},
		{"set_status_code/42", hostCall(abi.FuncSetStatusCode, 42)},
		{"set_status_code/1000", hostCall(abi.FuncSetStatusCode, 1000)},
		{"set_status_code/max", hostCall(abi.FuncSetStatusCode, 0xFFFF_FFFF)},
		{"get_source_addr/oob", hostCall(abi.FuncGetSourceAddr, oob, huge)},
	}
	// PoolSize 1: the good request after each failure must meet a fresh
	// instance (the guest answers "reused-after-trap" otherwise).
	p := newPlugin(t, wat(t, "hostcall"), host.Config{PoolSize: 1, GuestConfig: []byte("cfg")})
	good := hostCall(abi.FuncGetMethod, 0x100, 64)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// trailing bytes keep the request body non-empty for read_body
			body := append(append([]byte{}, tc.body...), "more body"...)
			wantGuestFailure(t, serve(t, p, newReq(http.MethodPost, "/", body, "x-a", "1")))
			wantResponse(t, serve(t, p, newReq(http.MethodPost, "/", good)), http.StatusOK, "ok")
		})
	}
	checkPoolIdle(t, p)
}

// TestGoodHostArgs: the same calls with valid arguments succeed, so the
// failures above are about the arguments.
func TestGoodHostArgs(t *testing.T) {
	p := newPlugin(t, wat(t, "hostcall"), host.Config{PoolSize: 1, GuestConfig: []byte("cfg")})
	for _, body := range [][]byte{
		hostCall(abi.FuncGetConfig, 0x100, 64),
		hostCall(abi.FuncGetConfig, oob, 0), // nothing to write: the buffer rule
		hostCall(abi.FuncLog, 0, okBytes, 2),
		hostCall(abi.FuncGetMethod, edge, 16),
		hostCall(abi.FuncGetURI, oob, 0),
		hostCall(abi.FuncGetHeaderNames, 0, 0x100, 1024),
		hostCall(abi.FuncGetHeaderValues, 0, xaName, 3, 0x100, 256),
		hostCall(abi.FuncSetHeaderValue, 1, xaName, 3, okBytes, 2),
		hostCall(abi.FuncRemoveHeader, 0, xaName, 3),
		hostCall(abi.FuncReadBody, 0, 0x100, 256),
		hostCall(abi.FuncSetStatusCode, 200),
		hostCall(abi.FuncGetSourceAddr, 0x100, 256),
		hostCall("none"),
	} {
		wantResponse(t, serve(t, p, newReq(http.MethodPost, "/", body, "x-a", "1")), http.StatusOK, "ok")
	}
}

// TestMutateAfterNext: what the phase rules forbid in handle_response fails
// the request; if the response was already sent, it is not corrupted.
func TestMutateAfterNext(t *testing.T) {
	var mu sync.Mutex
	var sawLate []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Header.Get("X-Late") != "" {
			sawLate = append(sawLate, r.Header.Get("X-Mode"))
		}
		mu.Unlock()
		io.WriteString(w, "from-next")
	})
	p := newPlugin(t, wat(t, "mutate"), host.Config{Next: next, PoolSize: 1})
	for _, mode := range []string{"a", "b", "c", "d", "e", "f"} {
		t.Run(mode, func(t *testing.T) {
			rec, aborted := serveOrAbort(t, p, get("/", "x-mode", mode))
			switch {
			case mode == "b": // buffered: nothing sent yet, so a clean 500
				if aborted {
					t.Fatal("aborted a response that was still buffered; want a clean 500")
				}
				wantGuestFailure(t, rec)
			case rec.Code == http.StatusInternalServerError && !aborted:
				checkGenericBody(t, rec.Body.String(), rec.Header().Get("X-Request-Id"))
			default: // already sent: must be next's response, untouched
				wantResponse(t, rec, http.StatusOK, "from-next")
				if rec.Header().Get("X-Late") != "" {
					t.Errorf("late request header leaked into the response: %v", rec.Header())
				}
			}
			wantResponse(t, serve(t, p, get("/")), http.StatusOK, "from-next")
		})
	}
	if s := p.Stats(); s.Traps != 6 {
		t.Errorf("Stats.Traps = %d, want 6 (every forbidden call traps)", s.Traps)
	}
	if len(sawLate) != 0 {
		t.Errorf("next saw a header set after next: %v", sawLate)
	}
	checkPoolIdle(t, p)
}
