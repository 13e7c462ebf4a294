package guest_test

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

const nethttpGuest = "testdata/nethttp"

// The adapter turns the host's request into a faithful *http.Request and
// the handler's http.ResponseWriter calls into the host's response.
func TestNetHTTPAdapter(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "next got "+r.URL.Path)
	})
	srv, _ := serve(t, nethttpGuest, host.Config{Next: next})
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Add(hdr[i], hdr[i+1])
		}
		resp := must(t)(srv.Client().Do(req))
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	t.Run("request", func(t *testing.T) {
		_, body := get("/req/bob?x=1&y=%26", "X-Multi", "1", "X-Multi", "2")
		host := strings.TrimPrefix(srv.URL, "http://")
		want := "method=GET uri=/req/bob?x=1&y=%26 path=/req/bob query=x=1&y=%26 name=bob proto=HTTP/1.1 major=1 host=" + host + " remote=true cl=0\n" +
			"x-multi=1,2\nhost-header=false\n"
		if body != want {
			t.Errorf("got\n%s\nwant\n%s", body, want)
		}
	})
	t.Run("status and headers", func(t *testing.T) {
		resp, body := get("/status")
		if resp.StatusCode != 418 || body != "short and stout" {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Values("X-Out"); strings.Join(got, ",") != "a,b" {
			t.Errorf("X-Out = %v", got)
		}
		if resp.Header.Get("X-Too-Late") != "" {
			t.Error("header set after WriteHeader was sent")
		}
	})
	t.Run("content sniffing", func(t *testing.T) {
		resp, _ := get("/sniff")
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("headers only", func(t *testing.T) {
		resp, body := get("/empty")
		if resp.StatusCode != 200 || body != "" || resp.Header.Get("X-Only-Headers") != "1" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
	t.Run("mux 404 and 405", func(t *testing.T) {
		if resp, _ := get("/nope"); resp.StatusCode != 404 {
			t.Errorf("unknown path: %d", resp.StatusCode)
		}
		resp := must(t)(srv.Client().Post(srv.URL+"/status", "", nil))
		if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
			t.Errorf("wrong method: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("next", func(t *testing.T) {
		resp, body := get("/to-next/x")
		if resp.StatusCode != 200 || body != "next got /to-next/x" || resp.Header.Get("X-Before-Next") != "1" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

// A large body streams through the adapter both ways (HTTP/2 for full
// duplex; see TestStreamLargeBodyEcho), and a TrailerPrefix header becomes
// a response trailer.
func TestNetHTTPAdapterStreamsAndTrailers(t *testing.T) {
	size := bodySize()
	p := newPlugin(t, guestWasm(t, nethttpGuest), host.Config{MaxRequestBody: -1, MemoryLimitPages: 256})
	srv := httptest.NewUnstartedServer(p)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	resp := must(t)(srv.Client().Post(srv.URL+"/copy", "application/octet-stream", &pattern{n: size}))
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	io.Copy(want, &pattern{n: size})
	if resp.StatusCode != 200 || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("status %d, %d bytes (want %d), hashes equal %v", resp.StatusCode, n, size, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
	if tr := resp.Trailer.Get("X-Copied"); tr != "16777216" && tr != "8388609" {
		t.Errorf("trailer X-Copied = %q (trailers %v)", tr, resp.Trailer)
	}
}

// TestNetHTTPAdapterAllocs reports (and bounds, to catch regressions) the
// guest allocations of one request through the adapter: a ServeMux route
// with a path value, the Go client's default headers, a header and a body
// written. Each guest allocation costs about 1-3 µs under the host's
// default (interruptible) configuration; see BenchmarkGuestAlloc.
func TestNetHTTPAdapterAllocs(t *testing.T) {
	srv, _ := serve(t, nethttpGuest, host.Config{PoolSize: 1})
	var prev, worst uint64
	for i := 0; i < 30; i++ {
		resp := must(t)(srv.Client().Get(srv.URL + "/mallocs/42"))
		io.ReadAll(resp.Body)
		m, err := strconv.ParseUint(resp.Header.Get("X-Mallocs"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 10 && m-prev > worst {
			worst = m - prev
		}
		prev = m
	}
	t.Logf("%d guest allocations per request through the adapter", worst)
	if worst > 16 {
		t.Errorf("%d allocations per request, want <= 16", worst)
	}
}
