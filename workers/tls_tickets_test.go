package workers

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// ticketWorker serves TLS as a worker would from a hello with pems and
// keys, and returns its address.
func ticketWorker(t *testing.T, pems []tlscert.PEM, keys [][32]byte) string {
	t.Helper()
	w, err := newWorkerTLS(hello{TLS: pems, TicketKeys: keys}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(tls.NewListener(ln, w.cfg))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// resumes reports whether a new connection to addr resumed a session from
// cache (a request is made so the TLS 1.3 ticket is read).
func resumes(t *testing.T, ca *testkit.CA, cache tls.ClientSessionCache, addr string) bool {
	t.Helper()
	cfg := ca.ClientConfig()
	cfg.ClientSessionCache = cache
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.TLS.DidResume
}

// A session a worker issued resumes on another worker with the primary's
// keys (not on one with other keys); after a rotation the old tickets
// still resume, and a week of rotations later they do not.
func TestTicketKeysShared(t *testing.T) {
	ca := testkit.NewCA(t)
	leaf := ca.Leaf(t)
	pems := []tlscert.PEM{{Cert: leaf.CertPEM, Key: leaf.KeyPEM}}
	keys := newTicketKeys()
	a := ticketWorker(t, pems, keys.current())
	b := ticketWorker(t, pems, keys.current())
	other := ticketWorker(t, pems, newTicketKeys().current())

	cache := tls.NewLRUClientSessionCache(1)
	if resumes(t, ca, cache, a) {
		t.Fatal("the first connection resumed")
	}
	if !resumes(t, ca, cache, b) {
		t.Error("a session from worker a did not resume on worker b (same keys)")
	}
	if resumes(t, ca, cache, other) {
		t.Error("a session resumed on a server with other keys")
	}

	cache = tls.NewLRUClientSessionCache(1)
	resumes(t, ca, cache, a) // a ticket under the first key
	rotated := ticketWorker(t, pems, keys.rotate())
	if !resumes(t, ca, cache, rotated) {
		t.Error("after one rotation, a ticket of the previous key did not resume")
	}
	cache = tls.NewLRUClientSessionCache(1)
	resumes(t, ca, cache, a)
	for range ticketKeep {
		keys.rotate()
	}
	if got := len(keys.current()); got != ticketKeep {
		t.Errorf("%d keys kept, want %d", got, ticketKeep)
	}
	if resumes(t, ca, cache, ticketWorker(t, pems, keys.current())) {
		t.Error("a ticket resumed after its key was dropped")
	}
}
