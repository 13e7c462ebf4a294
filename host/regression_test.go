package host_test

// Regression tests for host bugs found while testing (fixed in 587d990).

import (
	"bytes"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/host"
)

// TestStatusCodeRange: a final status must be 200..599. 1xx are interim
// responses (101 makes net/http announce a protocol switch and drop the
// body; 103/199 are followed by an empty 200), and 600..999 are not valid
// HTTP (RFC 9110 §15).
func TestStatusCodeRange(t *testing.T) {
	p := newPlugin(t, wat(t, "hostcall"), host.Config{PoolSize: 1})
	for _, code := range []uint32{100, 101, 103, 199, 600, 700, 999} {
		t.Run(strconv.Itoa(int(code)), func(t *testing.T) {
			wantGuestFailure(t, serve(t, p, newReq(http.MethodPost, "/", hostCall(abi.FuncSetStatusCode, code))))
		})
	}
	for _, code := range []uint32{200, 204, 418, 599} {
		rec := serve(t, p, newReq(http.MethodPost, "/", hostCall(abi.FuncSetStatusCode, code)))
		if rec.Code != int(code) {
			t.Errorf("set_status_code(%d) answered %d", code, rec.Code)
		}
	}
}

// TestProxyErrorsGoToSlog: the reverse proxy's errors go to the plugin's
// slog logger, tagged with the plugin, not to the standard log package.
func TestProxyErrorsGoToSlog(t *testing.T) {
	var std bytes.Buffer
	old := log.Writer()
	log.SetOutput(&std)
	defer log.SetOutput(old)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	logger, logs := captureLogger(0)
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: dead, Logger: logger, Name: "proxy-plugin"})
	if rec := serve(t, p, httptest.NewRequest(http.MethodGet, "/", nil)); rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	if std.Len() != 0 {
		t.Errorf("proxy error went to the standard logger: %q", std.String())
	}
	if got := logs.find("refused"); len(got) == 0 || !got[0].has("proxy-plugin") {
		t.Errorf("proxy error not in the plugin's slog records: %v", logs.all())
	}
}
