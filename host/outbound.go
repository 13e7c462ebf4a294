package host

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Outbound makes the HTTP calls of the wasmcluster.outbound_* host
// functions: the small interface the host needs, implemented outside host
// (package outbound: the allow-list, one pooled transport per process) and
// set in Config.Outbound by the process that creates the Plugin. Nil means
// outbound HTTP is not granted: every call fails with StatusNotGranted.
//
// Errors carry the status the guest sees when they implement StatusError
// (a refused target: StatusDenied); a context that ended is a timeout;
// anything else is StatusUnavailable.
type Outbound interface {
	// Check refuses a request before any I/O (the target is not allowed,
	// or the URL is unusable); nil when it may go.
	Check(req *http.Request) error
	// Do sends req and returns the response once its headers arrived. It
	// applies the policy on every hop and connection, and ignores a Host
	// the request carries. The caller closes the response body.
	Do(req *http.Request) (*http.Response, error)
}

// OutboundGrant is the operator's outbound HTTP grant as it travels to
// every process serving the plugin (JSON). The host applies Timeout and
// MaxResponseBody itself; Allow and MaxConcurrent are for the process that
// builds Config.Outbound from them.
type OutboundGrant struct {
	// Allow is [outbound] allow: the targets plugins may call. Empty
	// grants nothing.
	Allow []string `json:"allow,omitempty"`
	// Timeout bounds each call, from open to the end of its response
	// body; the request's own deadline bounds it too. Defaults to 10s.
	Timeout time.Duration `json:"timeout,omitempty"`
	// MaxResponseBody caps one response body, in bytes; reading past it
	// fails with StatusTooLarge. Defaults to 10 MiB.
	MaxResponseBody int64 `json:"max_response_body,omitempty"`
	// MaxConcurrent caps the calls in flight in one process. Defaults to 256.
	MaxConcurrent int `json:"max_concurrent,omitempty"`
}

// Defaults of OutboundGrant's zero values.
const (
	DefaultOutboundTimeout         = 10 * time.Second
	DefaultOutboundMaxResponseBody = 10 << 20
	DefaultOutboundMaxConcurrent   = 256
)

func (g OutboundGrant) withDefaults() OutboundGrant {
	if g.Timeout <= 0 {
		g.Timeout = DefaultOutboundTimeout
	}
	if g.MaxResponseBody <= 0 {
		g.MaxResponseBody = DefaultOutboundMaxResponseBody
	}
	if g.MaxConcurrent <= 0 {
		g.MaxConcurrent = DefaultOutboundMaxConcurrent
	}
	return g
}

// outboundCall is one open handle.
type outboundCall struct {
	req    *http.Request
	ctx    context.Context
	cancel context.CancelFunc
	target string // host[:port], the metrics label
	stats  *outboundStats

	pw   *io.PipeWriter // the streamed request body, once write_body started it
	done chan struct{}  // closed when a streamed call's Do returned

	sent   bool
	resp   *http.Response
	err    error // Do's error, for a streamed call
	read   int64 // response body bytes delivered
	eof    bool
	result abi.Status // the first failure, for metrics
}

// outboundCalls are a request's open handles: handle h is calls[h-1].
type outboundCalls [abi.OutboundMaxHandles]*outboundCall

// closeAll ends every call still open (the request is over).
func (calls *outboundCalls) closeAll() {
	for i, c := range calls {
		if c != nil {
			c.end()
			calls[i] = nil
		}
	}
}

// end releases what c holds and counts it.
func (c *outboundCall) end() {
	c.cancel()
	if c.pw != nil {
		c.pw.CloseWithError(context.Canceled)
		<-c.done // a streamed call's Do returns promptly once canceled; then c.resp is settled
	}
	if c.resp != nil {
		c.resp.Body.Close()
	}
	c.stats.count(c.target, c.result)
}

// outboundStats counts calls by target host and result. The number of
// hosts is bounded (a guest chooses them, refused ones too): past
// maxOutboundHosts the rest count under "other".
type outboundStats struct {
	mu sync.Mutex
	m  map[outboundKey]uint64
}

type outboundKey struct{ host, result string }

const maxOutboundHosts = 64

func (s *outboundStats) count(host string, result abi.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[outboundKey]uint64)
	}
	k := outboundKey{host, result.String()}
	if _, ok := s.m[k]; !ok && len(s.m) >= maxOutboundHosts*4 {
		k.host = "other"
	}
	s.m[k]++
}

// snapshot is the counters keyed "host result" (see Stats.Outbound).
func (s *outboundStats) snapshot() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(s.m))
	for k, n := range s.m {
		out[k.host+" "+k.result] = n
	}
	return out
}

// appendHeaderNames appends h's names, lowercase, sorted, NUL-terminated.
func appendHeaderNames(dst []byte, h http.Header) []byte {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	for _, n := range names {
		dst = append(append(dst, n...), 0)
	}
	return dst
}

// appendHeaderValues appends the values of name, NUL-terminated.
func appendHeaderValues(dst []byte, h http.Header, name string) []byte {
	for _, v := range h.Values(name) {
		dst = append(append(dst, v...), 0)
	}
	return dst
}
