package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// tlsServer serves a testPlugin over TLS with a fresh pair.
func tlsServer(t *testing.T, opts Options) (*Server, *testkit.CA, string) {
	t.Helper()
	ca := testkit.NewCA(t)
	leaf := ca.Leaf(t)
	store, err := tlscert.NewStore([]tlscert.PEM{{Cert: leaf.CertPEM, Key: leaf.KeyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts, bigPlugin{&testPlugin{version: "v1"}}, testLogger(), nil)
	s.ServeTLS(ln, store.ServerConfig())
	t.Cleanup(func() { s.Stop() })
	return s, ca, "https://" + ln.Addr().String()
}

// bigPlugin answers /big with 4 MiB: the client sends flow-control
// updates while it reads them, after the server finished the stream.
type bigPlugin struct{ *testPlugin }

func (p bigPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/big" {
		p.testPlugin.ServeHTTP(w, r)
		return
	}
	w.Write(make([]byte, 4<<20))
}

// A drain ends an idle HTTP/2 connection with a GOAWAY: the drain
// completes well before its cap instead of waiting for the client, whose
// connection reads control frames (so it never looks quiet) and stays in
// its pool.
func TestDrainSendsHTTP2GoAway(t *testing.T) {
	s, ca, url := tlsServer(t, Options{})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig(), ForceAttemptHTTP2: true}}
	defer c.CloseIdleConnections()
	for range 2 {
		resp, err := c.Get(url + "/big")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("served over %s, want HTTP/2", resp.Proto)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Errorf("drain with an idle HTTP/2 connection: %v, want nil", err)
	}
}

// Under TLS, a draining server still waits for a request in flight and
// answers it (HTTP/1.1 and HTTP/2 alike).
func TestDrainTLSWaitsForRequests(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		s, ca, url := tlsServer(t, Options{IdleGrace: 100 * time.Millisecond})
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig(), ForceAttemptHTTP2: h2}}
		got := make(chan string, 1)
		go func() {
			resp, err := c.Get(url + "/sleep?d=500ms")
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- resp.Proto + " " + string(b)
		}()
		testkit.WaitFor(t, 10*time.Second, "the request in flight", func() bool { return s.InFlight() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := s.Drain(ctx)
		cancel()
		want := map[bool]string{true: "HTTP/2.0 v1", false: "HTTP/1.1 v1"}[h2]
		if r := <-got; err != nil || r != want {
			t.Errorf("h2=%t: drain %v, answer %q; want nil and %q", h2, err, r, want)
		}
		c.CloseIdleConnections()
	}
}
