package guest_test

import (
	"testing"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestTCK runs the http-wasm conformance kit against our host with the
// kit's guest behaviour re-implemented on the SDK (testdata/tck): every
// case exercises an SDK call end to end.
func TestTCK(t *testing.T) {
	srv, _ := serve(t, "testdata/tck", host.Config{Next: tck.BackendHandler()})
	tck.Run(t, srv.Client(), srv.URL)
}
