package httpserve

import (
	"context"
	"net/http"
	"time"
)

// Plugin is a loaded handler; *host.Plugin satisfies it. Once a request's
// connection is hijacked (an upgrade its next proxies), the plugin must not
// need to stay open for it: Swap hands the old plugin back without waiting
// for such streams to end.
type Plugin interface {
	http.Handler
	Close(ctx context.Context) error
}

// Options tune the HTTP server. Zero values are the documented defaults.
// They travel to worker processes as JSON.
type Options struct {
	// ReadHeaderTimeout bounds reading a request's headers. Defaults to 10s.
	ReadHeaderTimeout time.Duration `json:"read_header_timeout,omitempty"`

	// IdleTimeout closes keep-alive connections idle this long. Defaults to 2m.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`

	// MaxHeaderBytes caps a request's header block (larger is answered
	// 431). Defaults to net/http's 1 MiB.
	MaxHeaderBytes int `json:"max_header_bytes,omitempty"`

	// MaxConnRequests answers the Nth request on a connection with
	// "Connection: close" so long-lived clients rebalance over workers.
	// Defaults to 1000; negative means unlimited.
	MaxConnRequests int `json:"max_conn_requests,omitempty"`

	// MaxConnAge does the same for connections older than this.
	// Defaults to 2m; negative means unlimited.
	MaxConnAge time.Duration `json:"max_conn_age,omitempty"`

	// IdleGrace is how long a draining server leaves idle keep-alive
	// connections open (a client may be sending on them) before closing
	// them. Defaults to 1s.
	IdleGrace time.Duration `json:"idle_grace,omitempty"`

	// AccessLog is the access log format: "" or "off", "common",
	// "combined" or "json" (accesslog.go).
	AccessLog string `json:"access_log,omitempty"`

	// H2C serves HTTP/2 without TLS (with prior knowledge: no Upgrade dance)
	// beside HTTP/1.1, for a trusted proxy in front that speaks it.
	// Defaults to false. Over TLS, HTTP/2 is negotiated by ALPN regardless.
	H2C bool `json:"h2c,omitempty"`

	// SelfTestPath, when set, is requested in-process (preflight.SelfTest)
	// before a freshly loaded plugin takes traffic; an answer of 500 or
	// more keeps it from serving. Empty: no request, the load is the
	// check (a synthetic request may have side effects).
	SelfTestPath string `json:"self_test_path,omitempty"`

	// TrustedProxies are the proxies (CIDR prefixes or addresses) whose
	// Forwarded or X-Forwarded-For names the client (edge.go). Empty: the
	// connection's peer is the client. Validated by the caller; an entry
	// that does not parse makes the server trust no one.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`

	// ProxyProtocol accepts a PROXY protocol v1/v2 header in front of
	// connections from TrustedProxies.
	ProxyProtocol bool `json:"proxy_protocol,omitempty"`
}

func (o Options) withDefaults() Options {
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.MaxConnRequests == 0 {
		o.MaxConnRequests = 1000
	}
	if o.MaxConnAge == 0 {
		o.MaxConnAge = 2 * time.Minute
	}
	if o.IdleGrace <= 0 {
		o.IdleGrace = time.Second
	}
	return o
}
