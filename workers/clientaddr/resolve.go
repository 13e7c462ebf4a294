package clientaddr

import (
	"net/http"
	"net/netip"
	"strings"
)

// Client is who a request came from, as far as trusted proxies vouch.
type Client struct {
	// Addr is the client: the peer itself unless the peer is trusted and
	// named someone else. The port is 0 when the proxy did not give one.
	Addr netip.AddrPort
	// Hops are the vouched-for addresses from the client (first) to the
	// peer (last): what the upstream receives as X-Forwarded-For. Nil when
	// the peer is not trusted (then the client is the peer, alone).
	Hops []netip.Addr
	// Proto is the scheme the client used: "https" or "http".
	Proto string
}

// Trusted reports whether c came through a trusted peer's headers.
func (c Client) Trusted() bool { return c.Hops != nil }

// Resolve finds the client of a request that peer sent with header h on a
// connection that is TLS (tls) or not. Without trust in peer, the headers
// are not read at all.
func (t Trusted) Resolve(peer netip.AddrPort, h http.Header, tls bool) Client {
	c := Client{Addr: peer, Proto: "http"}
	if tls {
		c.Proto = "https"
	}
	if !peer.IsValid() || !t.Contains(peer.Addr()) {
		return c
	}
	fw := forwarded(h["Forwarded"])
	var nodes, protos []string
	if len(fw) > 0 {
		nodes = make([]string, len(fw))
		protos = make([]string, len(fw))
		for i, e := range fw {
			nodes[i], protos[i] = e.forNode, e.proto
		}
	} else {
		nodes = splitList(h["X-Forwarded-For"])
		protos = splitList(h["X-Forwarded-Proto"])
	}
	hops := []netip.Addr{peer.Addr().Unmap()}
	client := len(nodes) // index of the client in nodes; len: the peer
	for i := len(nodes) - 1; i >= 0; i-- {
		a, ok := parseNode(nodes[i])
		if !ok {
			break // unknown or obfuscated: nothing past it can be placed
		}
		c.Addr, client = a, i
		hops = append(hops, a.Addr())
		if !t.Contains(a.Addr()) {
			break
		}
	}
	for i, j := 0, len(hops)-1; i < j; i, j = i+1, j-1 {
		hops[i], hops[j] = hops[j], hops[i]
	}
	c.Hops = hops
	if !tls {
		c.Proto = pickProto(protos, client, len(fw) > 0)
	}
	return c
}

// pickProto is the scheme trusted proxies say the client used: in
// Forwarded, the proto of the client's own element; in X-Forwarded-Proto,
// the value at the client's position when there is one per hop, else the
// last value (set by the nearest proxy, which is trusted).
func pickProto(protos []string, client int, perElement bool) string {
	p := ""
	switch {
	case client < len(protos) && (perElement || len(protos) > 1):
		p = protos[client]
	case !perElement && len(protos) > 0:
		p = protos[len(protos)-1]
	}
	if strings.EqualFold(strings.TrimSpace(p), "https") {
		return "https"
	}
	return "http"
}

// splitList splits comma-separated header values into trimmed items.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// parseNode reads one hop: "192.0.2.1", "192.0.2.1:80", "2001:db8::1",
// "[2001:db8::1]", "[2001:db8::1]:4711", quoted or not. "unknown", an
// obfuscated "_name" and anything else are not addresses.
func parseNode(s string) (netip.AddrPort, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap().WithZone(""), 0), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
	}
	if strings.HasPrefix(s, "[") {
		// "[v6]" or "[v6]:_obfuscated-port": the address without a port.
		if end := strings.IndexByte(s, ']'); end > 0 {
			if a, err := netip.ParseAddr(s[1:end]); err == nil && a.Is6() {
				return netip.AddrPortFrom(a.Unmap().WithZone(""), 0), true
			}
		}
	}
	return netip.AddrPort{}, false
}
