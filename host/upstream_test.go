package host_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// upstream starts a real backend on 127.0.0.1 and returns its URL.
func upstream(t *testing.T, h http.Handler) *url.URL {
	t.Helper()
	srv, ok := listen(t, "127.0.0.1:0", h)
	if !ok {
		t.Fatal("cannot listen on 127.0.0.1")
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUpstreamBodyReplay: with Config.Upstream, next is a reverse proxy; a
// body the guest read with buffer_request still reaches the upstream whole.
func TestUpstreamBodyReplay(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("X-Up-Len", strconv.Itoa(len(b)))
		w.Header().Set("X-Up-Guest-Len", r.Header.Get("X-Guest-Len"))
		io.WriteString(w, hex.EncodeToString(sum[:]))
	}))
	p := newPlugin(t, wat(t, "body"), host.Config{Upstream: up})
	srv, _ := listen(t, "127.0.0.1:0", p)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, 4096, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := make([]byte, size)
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			resp, err := http.Post(srv.URL+"/up", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := sha256.Sum256(body)
			if resp.StatusCode != http.StatusOK || string(got) != hex.EncodeToString(sum[:]) {
				t.Errorf("upstream got other bytes: %d %q, upstream saw %s bytes", resp.StatusCode, got, resp.Header.Get("X-Up-Len"))
			}
			if g := resp.Header.Get("X-Up-Guest-Len"); g != strconv.Itoa(size) {
				t.Errorf("guest header to upstream %q, want %d", g, size)
			}
		})
	}
}

// TestUpstreamResponseRewrite: handle_response with buffer_response rewrites
// what the upstream answered, through the proxy.
func TestUpstreamResponseRewrite(t *testing.T) {
	up := upstream(t, nextResponse)
	p := newPlugin(t, wat(t, "response"), host.Config{Upstream: up, GuestConfig: []byte("buffer")})
	srv, _ := listen(t, "127.0.0.1:0", p)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || string(body) != "rewritten:from-next" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-After") != "1" || resp.Header.Get("X-Next-Remove") != "" {
		t.Errorf("headers not rewritten: %v", resp.Header)
	}
}

// TestUpstreamTrailers: trailers of the upstream's response reach the guest
// (buffer_response) and the client, through the proxy.
func TestUpstreamTrailers(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Next-Saw-Trailer", r.Trailer.Get("X-Req-Trailer"))
		w.Header().Set("Trailer", "X-Next-Trailer")
		io.WriteString(w, "next-body")
		w.Header().Set("X-Next-Trailer", "nt")
	}))
	p := newPlugin(t, wat(t, "trailers"), host.Config{Upstream: up})
	srv, _ := listen(t, "127.0.0.1:0", p)
	resp := chunkedWithTrailer(t, srv.URL, "n")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "next-body" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Saw-Next-Trailer"); got != "nt" {
		t.Errorf("guest saw upstream trailer %q, want nt", got)
	}
	for name, want := range map[string]string{"X-Next-Trailer": "nt", "X-Guest-Trailer": "gt"} {
		if got := resp.Trailer.Get(name); got != want {
			t.Errorf("trailer %s = %q, want %q (trailers %v)", name, got, want, resp.Trailer)
		}
	}
}

// TestUpstreamDown: an unreachable upstream is a 502 from the proxy, not a
// guest failure; the plugin keeps serving.
func TestUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close() // nothing listens there now
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: dead})
	for range 2 {
		rec := serve(t, p, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusBadGateway {
			t.Fatalf("status %d %q, want 502", rec.Code, rec.Body.String())
		}
	}
	if s := p.Stats(); s.Traps != 0 {
		t.Errorf("an upstream failure counted as a guest trap: %+v", s)
	}
}
