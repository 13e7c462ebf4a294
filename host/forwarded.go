package host

import (
	"context"
	"net"
	"net/http/httputil"
	"net/netip"
	"strings"
)

// Forwarding is what the server in front of the plugin decided about a
// request that came through trusted proxies: the hops from the client to
// the connection's peer, and the scheme the client used. The upstream
// proxy sends exactly these on as X-Forwarded-For, X-Forwarded-Proto and
// Forwarded; without one (the peer is the client), it sends the peer.
type Forwarding struct {
	For   []string // IP addresses, the client first, the peer last
	Proto string   // "https" or "http"
}

type forwardingKey struct{}

// WithForwarding attaches f to a request's context for the upstream proxy.
// The server calls it only after checking that the peer is trusted: the
// host believes what it is given.
func WithForwarding(ctx context.Context, f *Forwarding) context.Context {
	return context.WithValue(ctx, forwardingKey{}, f)
}

// setForwardHeaders writes the forwarding headers of the request to the
// upstream. httputil.ReverseProxy has already removed the client's
// X-Forwarded-*; the client's Forwarded goes too, replaced by ours, so
// nothing an untrusted client wrote reaches the upstream as if a proxy
// had vouched for it. The guest cannot set these headers either.
func setForwardHeaders(pr *httputil.ProxyRequest) {
	f, _ := pr.In.Context().Value(forwardingKey{}).(*Forwarding)
	if f == nil {
		pr.SetXForwarded() // the peer is the client
		f = &Forwarding{Proto: "http"}
		if pr.In.TLS != nil {
			f.Proto = "https"
		}
		if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
			f.For = []string{ip}
		}
	} else {
		h := pr.Out.Header
		h.Set("X-Forwarded-For", strings.Join(f.For, ", "))
		h.Set("X-Forwarded-Host", pr.In.Host)
		h.Set("X-Forwarded-Proto", f.Proto)
	}
	pr.Out.Header.Set("Forwarded", forwardedValue(f, pr.In.Host))
}

// forwardedValue is the RFC 7239 form of f: one element per hop, the
// client's first with the host and scheme it asked for.
func forwardedValue(f *Forwarding, host string) string {
	var b strings.Builder
	for i, hop := range f.For {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("for=")
		if a, err := netip.ParseAddr(hop); err == nil && a.Is6() {
			b.WriteString(`"[` + a.String() + `]"`)
		} else {
			b.WriteString(hop)
		}
		if i == 0 {
			if host != "" && !strings.ContainsAny(host, "\"\\") {
				b.WriteString(`;host="` + host + `"`)
			}
			b.WriteString(";proto=" + f.Proto)
		}
	}
	if len(f.For) == 0 {
		b.WriteString("for=unknown;proto=" + f.Proto)
	}
	return b.String()
}
