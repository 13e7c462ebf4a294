package guest_test

import (
	"bytes"
	"crypto/sha256"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

const sdkGuest = "testdata/sdk"

// The response hook reads next's status, headers and body, and rewrites them.
func TestHandleResponseRewritesNext(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-from-guest") != "1" {
			http.Error(w, "request header set by the guest is missing", 400)
			return
		}
		w.Header().Set("content-type", "text/plain")
		w.WriteHeader(202)
		io.WriteString(w, "hello from next")
	})
	srv, _ := serve(t, sdkGuest, host.Config{Next: next})
	resp := must(t)(srv.Client().Get(srv.URL + "/mw/x"))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 203 || string(body) != "HELLO FROM NEXT" {
		t.Fatalf("got %d %q, want 203 \"HELLO FROM NEXT\"", resp.StatusCode, body)
	}
	want := map[string]string{
		"x-next-status":       "202",
		"x-next-content-type": "text/plain",
		"x-is-error":          "false",
		"x-method-after-next": "GET",
		"x-set-before-next":   "1",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if cl := resp.Header.Get("content-length"); cl != "" && cl != strconv.Itoa(len(body)) {
		t.Errorf("content-length %s for a %d-byte body", cl, len(body))
	}
}

func TestConfig(t *testing.T) {
	cfg := []byte("token=s3cret\x00\xffbinary is fine")
	srv, _ := serve(t, sdkGuest, host.Config{GuestConfig: cfg})
	for i := 0; i < 2; i++ { // the second read comes from the SDK's cache
		resp := must(t)(srv.Client().Get(srv.URL + "/config"))
		body, _ := io.ReadAll(resp.Body)
		if !bytes.Equal(body, cfg) {
			t.Fatalf("config = %q, want %q", body, cfg)
		}
	}
}

// trailerBody sets the request trailer when the body reaches EOF, the way
// net/http's client sends trailers.
type trailerBody struct {
	r   io.Reader
	req *http.Request
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.req.Trailer.Set("x-checksum", "abc123")
	}
	return n, err
}

func TestTrailers(t *testing.T) {
	srv, _ := serve(t, sdkGuest, host.Config{})
	req, err := http.NewRequest("POST", srv.URL+"/trailers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(&trailerBody{r: strings.NewReader("some body"), req: req})
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Checksum": nil}
	resp := must(t)(srv.Client().Do(req))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("x-body-len"); got != "9" {
		t.Errorf("guest read %s body bytes, want 9", got)
	}
	if got := resp.Header.Get("x-got-trailer"); got != "abc123" {
		t.Errorf("guest saw request trailer %q, want abc123", got)
	}
	if got := resp.Trailer.Get("x-resp-trailer"); got != "done" {
		t.Errorf("response trailer = %q, want done (trailers %v)", got, resp.Trailer)
	}
}

func TestLog(t *testing.T) {
	var logs testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, _ := serve(t, sdkGuest, host.Config{Logger: logger})
	resp := must(t)(srv.Client().Get(srv.URL + "/log"))
	io.ReadAll(resp.Body)
	if got := resp.Header.Get("x-debug-enabled"); got != "false" {
		t.Errorf("LogEnabled(debug) = %s with an info logger", got)
	}
	if got := resp.Header.Get("x-warn-enabled"); got != "true" {
		t.Errorf("LogEnabled(warn) = %s with an info logger", got)
	}
	out := logs.String()
	if !strings.Contains(out, "warn from guest") || !strings.Contains(out, "level=WARN") {
		t.Errorf("warn message missing from logs:\n%s", out)
	}
	if strings.Contains(out, "debug from guest") {
		t.Errorf("debug message logged at info level:\n%s", out)
	}
}

// A panicking handler is not recovered by the SDK: the host answers its
// generic 500, logs the panic with its stack from the guest's stderr, and
// replaces the instance, which serves the next request.
func TestPanicAnswers500(t *testing.T) {
	var logs testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv, p := serve(t, sdkGuest, host.Config{Logger: logger, PoolSize: 1})
	resp := must(t)(srv.Client().Get(srv.URL + "/panic"))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || strings.Contains(string(body), "boom") {
		t.Fatalf("got %d %q, want a 500 that does not leak the panic", resp.StatusCode, body)
	}
	resp = must(t)(srv.Client().Get(srv.URL + "/hello"))
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != "hello from wasm\n" {
		t.Fatalf("after panic: %d %q", resp.StatusCode, body)
	}
	if out := logs.String(); !strings.Contains(out, "panic: boom") || !strings.Contains(out, "main.serve") {
		t.Errorf("panic and stack not logged:\n%s", out)
	}
	if st := p.Stats(); st.Traps != 1 || st.Instantiations < 2 {
		t.Errorf("stats after a panic: %+v, want 1 trap and a replacement instance", st)
	}
}

// With FeatureBufferRequest the guest reads the body and next still gets all of it.
func TestBufferRequestLetsNextReadBody(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-next-peek", r.Header.Get("x-peek"))
		io.Copy(w, r.Body)
	})
	srv, _ := serve(t, sdkGuest, host.Config{Next: next})
	resp := must(t)(srv.Client().Post(srv.URL+"/peek", "text/plain", strings.NewReader("hello world")))
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "hello world" || resp.Header.Get("x-next-peek") != "hello" {
		t.Fatalf("next got %q with x-peek %q", body, resp.Header.Get("x-next-peek"))
	}
}

// pattern is a deterministic, non-repeating-looking byte stream of n bytes.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		x := uint64(p.off + int64(i))
		b[i] = byte(x*2654435761>>13) ^ byte(x>>16)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func bodySize() int64 {
	if testing.Short() {
		return 8<<20 + 1
	}
	return 16 << 20
}

// guestPages caps guest memory below the body size: 8 MiB, Go runtime and
// heap included, so a guest that buffered a body whole would fail.
const guestPages = 128

// A body larger than the guest's memory streams in.
func TestStreamLargeRequestBody(t *testing.T) {
	size := bodySize()
	srv, _ := serve(t, sdkGuest, host.Config{MaxRequestBody: -1, MemoryLimitPages: guestPages})
	req, err := http.NewRequest("POST", srv.URL+"/sink", &pattern{n: size})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // chunked: nobody can size anything up front
	resp := must(t)(srv.Client().Do(req))
	io.ReadAll(resp.Body)
	want := fnv.New64a()
	io.Copy(want, &pattern{n: size})
	if resp.StatusCode != 200 || resp.Header.Get("x-len") != strconv.FormatInt(size, 10) ||
		resp.Header.Get("x-fnv") != strconv.FormatUint(want.Sum64(), 16) {
		t.Fatalf("status %d, guest read %s bytes with fnv %s; want %d bytes with fnv %x",
			resp.StatusCode, resp.Header.Get("x-len"), resp.Header.Get("x-fnv"), size, want.Sum64())
	}
}

// A response body larger than the guest's memory streams out.
func TestStreamLargeResponseBody(t *testing.T) {
	size := bodySize()
	srv, _ := serve(t, sdkGuest, host.Config{MemoryLimitPages: guestPages})
	resp := must(t)(srv.Client().Get(srv.URL + "/source?" + strconv.FormatInt(size, 10)))
	got := fnv.New64a()
	n, err := io.Copy(got, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := fnv.New64a()
	io.Copy(want, &pattern{n: size})
	if resp.StatusCode != 200 || n != size || got.Sum64() != want.Sum64() {
		t.Fatalf("status %d, %d bytes (want %d), fnv equal %v", resp.StatusCode, n, size, got.Sum64() == want.Sum64())
	}
}

// Echo streams both ways at once through one 32 KiB guest buffer. It runs
// over HTTP/2: Go's HTTP/1 server discards up to 256 KiB of unread request
// body when a handler starts its response unless the handler enables full
// duplex (http.ResponseController.EnableFullDuplex).
func TestStreamLargeBodyEcho(t *testing.T) {
	size := bodySize()
	p := newPlugin(t, guestWasm(t, sdkGuest), host.Config{MaxRequestBody: -1, MemoryLimitPages: guestPages})
	srv := httptest.NewUnstartedServer(p)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("POST", srv.URL+"/stream", &pattern{n: size})
	if err != nil {
		t.Fatal(err)
	}
	resp := must(t)(srv.Client().Do(req))
	if resp.ProtoMajor != 2 {
		t.Fatalf("proto %s, want HTTP/2", resp.Proto)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	io.Copy(want, &pattern{n: size})
	if resp.StatusCode != 200 || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("status %d, echoed %d bytes (want %d), hashes equal %v", resp.StatusCode, n, size, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

// TestAllocsPerRequest measures guest allocations per request: the guest
// reports runtime.MemStats.Mallocs, and one instance serves every request, so
// consecutive values differ by what one request cost. /baseline only
// measures (the Go runtime's own cost of an export call and of measuring);
// the other paths are reported above it.
func TestAllocsPerRequest(t *testing.T) {
	srv, _ := serve(t, sdkGuest, host.Config{PoolSize: 1})
	worst := func(path string) uint64 {
		var prev, worst uint64
		for i := 0; i < 30; i++ {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("accept", "*/*")
			resp := must(t)(srv.Client().Do(req))
			io.ReadAll(resp.Body)
			m, err := strconv.ParseUint(resp.Header.Get("x-mallocs"), 10, 64)
			if err != nil {
				t.Fatalf("%s: x-mallocs: %v", path, err)
			}
			if i >= 10 && m-prev > worst { // skip warm-up (first-use buffers)
				worst = m - prev
			}
			prev = m
		}
		return worst
	}
	base := worst("/baseline")
	t.Logf("baseline: %d allocations per request", base)
	for _, tc := range []struct {
		path string
		max  uint64
	}{
		{"/hello", 0},   // SDK dispatch, a header, a body: nothing allocates
		{"/getters", 2}, // Method is interned; the URI and one header value are strings
	} {
		n := worst(tc.path)
		if n < base {
			n = base
		}
		t.Logf("%s: %d allocations per request above baseline", tc.path, n-base)
		if n-base > tc.max {
			t.Errorf("%s: %d allocations per request above baseline, want <= %d", tc.path, n-base, tc.max)
		}
	}
}
