package httpserve

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/workers/clientaddr"
)

// edge is the server's view of what stands in front of it: the trusted
// proxies (nil: none, and requests are not touched) and whether they
// speak the PROXY protocol.
type edge struct {
	trust         *clientaddr.Trusted
	proxyProtocol bool
	headerTimeout time.Duration
	streams       *streamSet // upgraded connections (streams.go)
}

func newEdge(o Options, log *slog.Logger) edge {
	e := edge{headerTimeout: o.ReadHeaderTimeout, streams: &streamSet{}}
	if len(o.TrustedProxies) == 0 {
		return e
	}
	t, err := clientaddr.Parse(o.TrustedProxies)
	if err != nil {
		// Config validation refuses this first; fail closed if it did not.
		log.Error("trusted_proxies: trusting no proxy", slog.Any("err", err))
		return e
	}
	e.trust, e.proxyProtocol = &t, o.ProxyProtocol
	return e
}

// listener wraps ln for the PROXY protocol when it is on. It wraps the
// raw listener: the header comes before any TLS handshake.
func (e edge) listener(ln net.Listener) net.Listener {
	if !e.proxyProtocol {
		return ln
	}
	return clientaddr.Listen(ln, *e.trust, e.headerTimeout)
}

// client rewrites r for a request from a trusted proxy: RemoteAddr
// becomes the client it names (what get_source_addr and the access log
// read), and the hops it vouches for travel in the context to the
// upstream proxy. A request from any other peer is returned as is.
func (e edge) client(r *http.Request) *http.Request {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r // a unix socket: no address to trust
	}
	c := e.trust.Resolve(peer, r.Header, r.TLS != nil)
	if !c.Trusted() {
		return r
	}
	f := &host.Forwarding{For: make([]string, len(c.Hops)), Proto: c.Proto}
	for i, h := range c.Hops {
		f.For[i] = h.String()
	}
	r = r.WithContext(host.WithForwarding(r.Context(), f))
	r.RemoteAddr = c.Addr.String()
	return r
}

// endStreams sends every upgraded connection its close frame, then gives
// the streams streamGrace to end on their own (the client answers the
// close frame, the upstream hangs up) before the caller closes them.
func (s *Server) endStreams() {
	if s.edge.streams.goAway() == 0 {
		return
	}
	deadline := time.Now().Add(streamGrace)
	for s.streams.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
