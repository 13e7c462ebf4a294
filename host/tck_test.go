package host_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestTCK runs the http-wasm conformance kit (35 request-side cases)
// in-process, with the kit's echo backend as next. The end-to-end run
// through the binary lives with the CLI.
func TestTCK(t *testing.T) {
	p, err := host.New(context.Background(), tck.GuestWASM, host.Config{
		Name: "tck", Next: tck.BackendHandler(), Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Close(context.Background())
	})
	tck.Run(t, srv.Client(), srv.URL)
}

// TestTCKUpstream runs the kit with next as the reverse proxy to the kit's
// backend on a real socket, so set_method, set_uri and request header
// changes are checked as they cross the wire.
func TestTCKUpstream(t *testing.T) {
	backend := tck.StartBackend("127.0.0.1:0")
	t.Cleanup(backend.Close)
	up, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := host.New(context.Background(), tck.GuestWASM, host.Config{
		Name: "tck-upstream", Upstream: up, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Close(context.Background())
	})
	tck.Run(t, srv.Client(), srv.URL)
}
