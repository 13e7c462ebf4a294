package host_test

import (
	"context"
	"net/http/httptest"
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
