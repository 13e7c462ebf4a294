package host_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestUpstreamRequestTrailers: request trailers reach the upstream.
// httputil.ReverseProxy alone drops them: Request.Clone copies the Trailer
// map before the server fills in its values at body EOF.
func TestUpstreamRequestTrailers(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Next-Saw-Trailer", r.Trailer.Get("X-Req-Trailer"))
	}))
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: up})
	srv, _ := listen(t, "127.0.0.1:0", p)
	resp := chunkedWithTrailer(t, srv.URL, "n")
	io.Copy(io.Discard, resp.Body)
	if got := resp.Header.Get("X-Next-Saw-Trailer"); got != "rq" {
		t.Errorf("upstream saw request trailer %q, want rq", got)
	}
}
