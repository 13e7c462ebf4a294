package host_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestStreamingEchoHTTP1: a guest that writes its answer while still
// reading the request body gets the whole body over HTTP/1.1. Without full
// duplex, net/http discards the unread request body once the response
// starts and the echo silently comes back short.
func TestStreamingEchoHTTP1(t *testing.T) {
	p := newPlugin(t, wat(t, "echo_stream"), host.Config{MaxRequestBody: 16 << 20})
	srv, _ := listen(t, "127.0.0.1:0", p)
	body := make([]byte, 4<<20)
	rand.Read(body)
	// No GetBody and a plain reader: the client cannot replay, so any loss
	// shows.
	req, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read echo: %v (after %d bytes)", err, len(got))
	}
	if resp.ProtoMajor != 1 || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %d, want HTTP/1.x 200", resp.Proto, resp.StatusCode)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("echo returned %d bytes, sent %d (equal=%v)", len(got), len(body), bytes.Equal(got, body))
	}
}

// TestBufferedResponseCap: with buffer_response, a next response larger than
// MaxBufferedResponse is not held whole in memory: the client gets a 502.
func TestBufferedResponseCap(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 64<<10)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			if _, err := w.Write(big); err != nil {
				return
			}
		}
	})
	// trailers.wat in mode 'n' enables buffer_response and calls next.
	p := newPlugin(t, wat(t, "trailers"), host.Config{Next: next, MaxBufferedResponse: 100 << 10})
	rec := serve(t, p, get("/", "x-mode", "n"))
	if rec.Code != http.StatusBadGateway || rec.Body.Len() != 0 {
		t.Fatalf("got %d with %d body bytes, want an empty 502", rec.Code, rec.Body.Len())
	}
	small := newPlugin(t, wat(t, "trailers"), host.Config{Next: next, MaxBufferedResponse: 1 << 20})
	if rec := serve(t, small, get("/", "x-mode", "n")); rec.Code != http.StatusOK || rec.Body.Len() != 4*len(big) {
		t.Fatalf("under the cap: got %d with %d bytes, want 200 with %d", rec.Code, rec.Body.Len(), 4*len(big))
	}
}
