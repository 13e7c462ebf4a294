package host

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// NextHandler is the handler a guest's next calls under cfg: cfg.Next, a
// streaming reverse proxy to cfg.Upstream, or the built-in 404. Embedders
// that wrap next (the worker keeps its self-test request off the upstream)
// start from it and pass the wrapper as Config.Next. The proxy counts its
// failures in the Stats of the Plugin it serves under (see withNextStats),
// wrapped or not.
func NextHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return nextHandler(cfg, cfg.Logger)
}

// nextHandler is what a guest's next=1 calls: Config.Next, a streaming
// reverse proxy to Config.Upstream, or a built-in 404.
func nextHandler(cfg Config, log *slog.Logger) http.Handler {
	switch {
	case cfg.Next != nil:
		return cfg.Next
	case cfg.Upstream != nil:
		u := newUpstreamProxy(cfg.Upstream, log)
		u.rp.Transport = upstreamTransport(cfg.UpstreamCA, log) // upstream_tls.go
		return u
	default:
		return http.NotFoundHandler()
	}
}

// upstreamLogInterval is how often each cause of upstream failure may log a
// line: a down upstream under load fails thousands of requests a second,
// and the counts are in Stats (and /metrics) anyway.
const upstreamLogInterval = 10 * time.Second

// upstreamProxy is next with an upstream: a streaming reverse proxy that
// answers each failure with the status of its cause and counts it.
type upstreamProxy struct {
	rp     httputil.ReverseProxy
	target *url.URL
	warn   *logLimiter
	log    *slog.Logger
}

func newUpstreamProxy(target *url.URL, log *slog.Logger) *upstreamProxy {
	u := &upstreamProxy{target: target, log: log, warn: newLogLimiter(log, upstreamLogInterval)}
	u.rp = httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			setForwardHeaders(pr) // forwarded.go
			pr.Out.Host = pr.In.Host
			// Share, not copy, the trailer map: the server fills in the
			// values at body EOF, after Clone ran, and the transport sends
			// them after the body.
			pr.Out.Trailer = pr.In.Trailer
		},
		FlushInterval: -1, // stream: flush every write
		ErrorHandler:  u.failed,
		// The proxy's own log lines (an upstream that breaks mid-body, once
		// per failure) go through the same limit, in the plugin's log.
		ErrorLog: stdlog.New(proxyLog{u.warn}, "", 0),
	}
	return u
}

// proxyLog is the reverse proxy's log, one limited WARN per line.
type proxyLog struct{ l *logLimiter }

func (p proxyLog) Write(b []byte) (int, error) {
	p.l.warn("proxy", "upstream proxy error", slog.String("err", strings.TrimSpace(string(b))))
	return len(b), nil
}

func (u *upstreamProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		// Remember why reading the client's body failed: the transport
		// reports it as its own failure, and only the cause tells a client
		// at fault (413, 400) from an upstream at fault (502).
		// (The proxy wraps the body it sends, so the record travels in the
		// context.)
		rb := &recordingBody{ReadCloser: r.Body}
		r = r.WithContext(context.WithValue(r.Context(), recordingBodyKey{}, rb))
		r.Body = rb
	}
	u.rp.ServeHTTP(w, r)
}

// failed answers a request the proxy could not complete before the
// upstream's headers arrived (after that, the proxy aborts the response).
func (u *upstreamProxy) failed(w http.ResponseWriter, r *http.Request, err error) {
	var bodyErr error
	if b, ok := r.Context().Value(recordingBodyKey{}).(*recordingBody); ok {
		bodyErr = b.failure()
	}
	c := classify(r.Context(), err, bodyErr)
	if st := nextStatsFrom(r.Context()); st != nil {
		st.upstream[c].Add(1)
		if c == causeBodyTooLarge {
			st.tooLarge.Add(1)
		}
	}
	attrs := []slog.Attr{slog.String("cause", c.String()), slog.String("upstream", u.target.Redacted()),
		slog.String("method", r.Method), slog.String("uri", r.RequestURI), slog.Any("err", err)}
	attrs = append(attrs, upstreamTLSHint(err)...) // upstream_tls.go
	if c.upstreamFault() {
		u.warn.warn(c.String(), "upstream request failed", attrs...)
	} else {
		u.log.LogAttrs(r.Context(), slog.LevelDebug, "request to upstream ended by the client", attrs...)
	}
	if s := c.status(); s != 0 {
		w.WriteHeader(s)
	}
}

type recordingBodyKey struct{}

// recordingBody keeps the first error reading the client's body returned.
// The transport reads the body on a goroutine of its own, which may still
// run when the proxy reports a failure: hence the lock.
type recordingBody struct {
	io.ReadCloser
	mu  sync.Mutex
	err error
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *recordingBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// upstreamCause is why the proxy could not complete a request.
type upstreamCause uint8

const (
	causeTimeout      upstreamCause = iota // no answer before the request's deadline
	causeConnect                           // no connection: refused, unreachable, DNS, TLS handshake
	causeReset                             // connection reset or closed before a whole answer
	causeBadResponse                       // an answer that is not HTTP, or any other transport failure
	causeBodyTooLarge                      // the client's body outgrew max_request_body on the way
	causeBadBody                           // the client's body was malformed or cut short
	causeClientGone                        // the client left before the answer
	numCauses
)

var causeNames = [numCauses]string{"timeout", "connect", "reset", "bad_response", "body_too_large", "bad_body", "client_gone"}

func (c upstreamCause) String() string { return causeNames[c] }

// upstreamFault reports whether the upstream, not the client, failed.
func (c upstreamCause) upstreamFault() bool { return c <= causeBadResponse }

// status is the answer for c; 0 for none (nobody reads it).
func (c upstreamCause) status() int {
	switch c {
	case causeTimeout:
		return http.StatusGatewayTimeout
	case causeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case causeBadBody:
		return http.StatusBadRequest
	case causeClientGone:
		return 0
	}
	return http.StatusBadGateway
}

// classify finds the cause of a failed proxy round trip: the client's body
// first (the transport reports its read errors as its own), then the
// request's context (deadline or client gone), then the transport's error.
func classify(ctx context.Context, err, bodyErr error) upstreamCause {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(bodyErr, &tooLarge):
		return causeBodyTooLarge
	case bodyErr != nil && ctx.Err() == nil:
		return causeBadBody
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		// The cause, not Err: an upgrade's deadline (lifted at the hijack)
		// ends its context by a cancel whose cause is the deadline.
		return causeTimeout
	case ctx.Err() != nil || bodyErr != nil:
		return causeClientGone
	}
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.As(err, &dnsErr),
		errors.As(err, &certErr), errors.As(err, &recErr):
		return causeConnect
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return causeTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return causeReset
	}
	return causeBadResponse
}

// nextStatsKey carries a Plugin's counters to the next handler, which
// embedders may wrap (the worker does), so the proxy counts its failures
// in the Stats of the Plugin it serves under.
type nextStatsKey struct{}

func withNextStats(ctx context.Context, c *counters) context.Context {
	return context.WithValue(ctx, nextStatsKey{}, c)
}

func nextStatsFrom(ctx context.Context) *counters {
	c, _ := ctx.Value(nextStatsKey{}).(*counters)
	return c
}

// UpstreamStats counts requests the upstream proxy (Config.Upstream) could
// not complete, by cause. The first four are the upstream's fault, the
// rest the client's.
type UpstreamStats struct {
	Timeout      uint64 // answered 504: no answer within RequestTimeout
	Connect      uint64 // answered 502: could not connect (refused, unreachable, DNS, TLS)
	Reset        uint64 // answered 502: connection reset or closed before the answer
	BadResponse  uint64 // answered 502: not an HTTP answer, or another transport failure
	BodyTooLarge uint64 // answered 413: a chunked body outgrew MaxRequestBody
	BadBody      uint64 // answered 400: the client's body was malformed or cut short
	ClientGone   uint64 // not answered: the client left first (nginx's 499)
}

// ByCause is u keyed by cause name, every cause present: timeout, connect,
// reset, bad_response, body_too_large, bad_body, client_gone (as the logs'
// "cause" attribute spells them).
func (u UpstreamStats) ByCause() map[string]uint64 {
	v := u.values()
	m := make(map[string]uint64, numCauses)
	for i, name := range causeNames {
		m[name] = v[i]
	}
	return m
}

func (u UpstreamStats) values() [numCauses]uint64 {
	return [numCauses]uint64{u.Timeout, u.Connect, u.Reset, u.BadResponse, u.BodyTooLarge, u.BadBody, u.ClientGone}
}

func upstreamStats(c *[numCauses]atomic.Uint64) UpstreamStats {
	return UpstreamStats{
		Timeout: c[causeTimeout].Load(), Connect: c[causeConnect].Load(), Reset: c[causeReset].Load(),
		BadResponse: c[causeBadResponse].Load(), BodyTooLarge: c[causeBodyTooLarge].Load(),
		BadBody: c[causeBadBody].Load(), ClientGone: c[causeClientGone].Load(),
	}
}
