package host_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// An https upstream signed by a private CA: trusted with UpstreamCA (over
// HTTP/2, the upstream's ALPN choice), refused without it (502: the
// system's roots do not know the CA), and a CA without a certificate
// refuses the load.
func TestUpstreamCA(t *testing.T) {
	ca := testkit.NewCA(t)
	leaf := ca.Leaf(t)
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	up, _ := url.Parse(srv.URL)

	for _, c := range []struct {
		ca         []byte
		code       int
		proto      string
		loadErrSub string
	}{
		{ca.PEM, 200, "HTTP/2.0", ""},
		{nil, http.StatusBadGateway, "", ""},
		{[]byte("not a certificate"), 0, "", "upstream_ca holds no PEM certificate"},
	} {
		cfg := host.Config{Upstream: up, UpstreamCA: c.ca, Logger: quiet()}
		if c.loadErrSub != "" {
			_, err := host.New(context.Background(), wat(t, "next"), cfg)
			if err == nil || !strings.Contains(err.Error(), c.loadErrSub) {
				t.Errorf("load with UpstreamCA %q: %v, want %q", c.ca, err, c.loadErrSub)
			}
			continue
		}
		p := newPlugin(t, wat(t, "next"), cfg)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != c.code || (c.proto != "" && rec.Body.String() != c.proto) {
			t.Errorf("UpstreamCA %d bytes: %d %q, want %d %q", len(c.ca), rec.Code, rec.Body, c.code, c.proto)
		}
	}
}
