package host

import (
	"crypto/tls"
	"net/http/httptest"
	"net/http/httputil"
	"testing"
)

// The upstream's forwarding headers: the peer alone unless the server
// vouched for more; a client's own Forwarded never passes.
func TestSetForwardHeaders(t *testing.T) {
	for _, tt := range []struct {
		name       string
		remote     string
		tls        bool
		f          *Forwarding
		xff, proto string
		fwd        string
	}{
		{"peer is the client", "192.0.2.1:5000", false, nil,
			"192.0.2.1", "http", `for=192.0.2.1;host="app.test";proto=http`},
		{"TLS, IPv6 peer", "[2001:db8::1]:443", true, nil,
			"2001:db8::1", "https", `for="[2001:db8::1]";host="app.test";proto=https`},
		{"vouched hops", "10.0.0.2:4000", false, &Forwarding{For: []string{"2001:db8::5", "10.0.0.9", "10.0.0.2"}, Proto: "https"},
			"2001:db8::5, 10.0.0.9, 10.0.0.2", "https", `for="[2001:db8::5]";host="app.test";proto=https, for=10.0.0.9, for=10.0.0.2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := httptest.NewRequest("GET", "http://app.test/x", nil)
			in.RemoteAddr = tt.remote
			in.Header.Set("Forwarded", "for=6.6.6.6;proto=https")
			if tt.tls {
				in.TLS = &tls.ConnectionState{}
			}
			if tt.f != nil {
				in = in.WithContext(WithForwarding(in.Context(), tt.f))
			}
			out := in.Clone(in.Context())
			out.Header.Del("X-Forwarded-For") // as ReverseProxy does before Rewrite
			pr := &httputil.ProxyRequest{In: in, Out: out}
			setForwardHeaders(pr)
			h := out.Header
			if h.Get("X-Forwarded-For") != tt.xff || h.Get("X-Forwarded-Proto") != tt.proto ||
				len(h.Values("Forwarded")) != 1 || h.Get("Forwarded") != tt.fwd || h.Get("X-Forwarded-Host") != "app.test" {
				t.Errorf("got XFF %q proto %q Forwarded %q host %q", h.Get("X-Forwarded-For"), h.Get("X-Forwarded-Proto"),
					h.Values("Forwarded"), h.Get("X-Forwarded-Host"))
			}
		})
	}
}
