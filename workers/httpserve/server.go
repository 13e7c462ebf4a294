package httpserve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDrainTimeout reports connections cut off at the drain's hard cap.
var ErrDrainTimeout = errors.New("requests still running at the drain timeout (drain_timeout) were cut off")

// Server serves a Plugin on a listener, metered, and drains carefully
// (see doc.go).
type Server struct {
	opts     Options
	srv      *http.Server
	h2       *http.Server // HTTP/2's handlers and its GOAWAY (tls.go)
	ln       net.Listener
	served   chan error // Serve's result
	draining atomic.Bool

	cur      atomic.Pointer[generation]
	requests atomic.Uint64
	inFlight atomic.Int64
	streams  atomic.Int64 // of inFlight, upgraded connections (hijacked: a WebSocket)
	meter    meter
	access   *accessLog // nil: no access log
	edge     edge       // edge.go: trusted proxies, PROXY protocol, upgraded streams

	mu    sync.Mutex
	conns map[net.Conn]*connInfo

	// base is every request's parent context, canceled when the server
	// cuts what is left (the drain's hard cap, Stop): that is what ends a
	// hijacked connection (a WebSocket proxied by next), which
	// http.Server.Close does not track.
	base       context.Context
	cancelBase context.CancelFunc
}

// generation is one loaded plugin with a count of requests using it, so a
// replaced plugin (in-process reload) is closed only once unused.
type generation struct {
	p    Plugin
	refs atomic.Int64
}

type connInfo struct {
	born  time.Time
	reqs  atomic.Int64
	state http.ConnState // guarded by Server.mu
	since time.Time      // when state last changed; guarded by Server.mu
	rw    respWriter     // the writer wrapper of the connection's HTTP/1 requests, one at a time
}

type connKey struct{}

// New returns a server for p. Every request is counted (Metrics) and, when
// opts.AccessLog names a format and access is not nil, written as one line
// to access; log gets net/http's own errors at debug level.
func New(opts Options, p Plugin, log *slog.Logger, access io.Writer) *Server {
	s := &Server{opts: opts.withDefaults(), conns: make(map[net.Conn]*connInfo), served: make(chan error, 1)}
	s.access = newAccessLog(s.opts.AccessLog, access)
	s.edge = newEdge(s.opts, log)
	s.cur.Store(&generation{p: p})
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.srv = &http.Server{
		Handler:           s,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		Protocols:         s.opts.protocols(),
		ConnContext:       s.connContext,
		ConnState:         s.connState,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.setupH2()
	return s
}

// Serve starts serving ln in the background.
func (s *Server) Serve(ln net.Listener) {
	s.ln = ln
	ln = s.edge.listener(ln)
	go func() { s.served <- s.srv.Serve(trackListener{ln}) }()
}

// trackListener wraps accepted connections in trackedConn.
type trackListener struct{ net.Listener }

func (l trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackedConn{Conn: c}, nil
}

// trackedConn records when it last read bytes. net/http marks a connection
// active only after reading a whole request header, so "idle" alone is not
// "quiet": a drain must not close a connection that has read a request's
// first bytes since it went idle.
type trackedConn struct {
	net.Conn
	lastRead atomic.Int64 // UnixNano of the last Read that returned bytes
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// CloseWrite keeps net/http's graceful close (FIN, then wait) working.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// quietSince reports whether c has read nothing since t.
func quietSince(c net.Conn, t time.Time) bool {
	tc, ok := plainConn(c).(*trackedConn)
	return !ok || tc.lastRead.Load() < t.UnixNano()
}

func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	now := time.Now()
	ci := &connInfo{born: now, state: http.StateNew, since: now}
	s.mu.Lock()
	s.conns[c] = ci
	s.mu.Unlock()
	return context.WithValue(ctx, connKey{}, ci)
}

func (s *Server) connState(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		if ci := s.conns[c]; ci != nil {
			ci.state, ci.since = st, time.Now()
		}
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.edge.trust != nil {
		r = s.edge.client(r)
	}
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	ci, _ := r.Context().Value(connKey{}).(*connInfo)
	if s.closeAfter(ci) {
		w.Header().Set("Connection", "close")
	}
	g := s.acquire()
	var rw *respWriter
	if ci != nil && r.ProtoMajor == 1 {
		// HTTP/1 serves a connection's requests one after another, and
		// nothing keeps the wrapper past ServeHTTP: reuse the connection's.
		ci.rw = respWriter{ResponseWriter: w, s: s, g: g, r: r}
		rw = &ci.rw
	} else {
		rw = &respWriter{ResponseWriter: w, s: s, g: g, r: r}
	}
	defer rw.done()
	s.observe(rw, r, g.p)
	if !rw.hijacked && !rw.wrote && s.draining.Load() {
		w.Header().Set("Connection", "close")
	}
}

// observe serves r with p, recording its status and latency in the meter
// and the access log.
func (s *Server) observe(rw *respWriter, r *http.Request, p Plugin) {
	start := time.Now()
	defer func() {
		code := rw.code
		if code == 0 {
			code = http.StatusOK
		}
		d := time.Since(start)
		s.meter.observe(code, d)
		if s.access != nil {
			s.access.log(r, code, rw.bytes, start, d)
		}
	}()
	p.ServeHTTP(rw, r)
}

// Requests is the number of requests received so far; InFlight, those
// being served.
func (s *Server) Requests() uint64 { return s.requests.Load() }
func (s *Server) InFlight() int64  { return s.inFlight.Load() }

// Metrics snapshots the meter and the current plugin's counters.
func (s *Server) Metrics() *Metrics {
	m := s.meter.snapshot(s.Plugin())
	m.Upgraded, m.UpgradedTotal = s.streams.Load(), s.edge.streams.total.Load()
	return m
}

// respWriter is the one wrapper a request's writer gets (kept in its
// connection's connInfo for HTTP/1, so no allocation per request): it
// records the status and body size for the meter and the access log, and adds "Connection: close" to a response whose headers go
// out after the drain began, so a keep-alive connection busy when the
// drain started ends cleanly instead of being closed while idle.
type respWriter struct {
	http.ResponseWriter
	s        *Server
	g        *generation // the plugin serving the request, until a hijack
	r        *http.Request
	stream   *streamConn // the hijacked connection (streams.go)
	code     int         // the final status (not 1xx); 0 until one is known
	bytes    int64
	wrote    bool // headers (or a 1xx) went out
	hijacked bool
}

// Hijack counts the connection as an upgraded stream, which a drain
// leaves open until its cap and then ends as expected, not as a failure.
// The stream no longer uses the plugin (see Plugin), so it stops holding
// it: a swap does not wait for WebSockets to close. It is recorded as 101
// Switching Protocols: the proxy writes that answer on the hijacked
// connection itself.
func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.stream = &streamConn{Conn: c, ws: isWebSocket(w.r)}
		w.s.edge.streams.add(w.stream)
		c = w.stream
		w.hijacked = true
		w.s.streams.Add(1)
		w.g.refs.Add(-1)
		if w.code == 0 {
			w.code = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

// done ends the request's hold on its plugin, or its stream.
func (w *respWriter) done() {
	if w.hijacked {
		w.s.edge.streams.remove(w.stream)
		w.s.streams.Add(-1)
	} else {
		w.g.refs.Add(-1)
	}
}

func (w *respWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	if !w.wrote {
		w.wrote = true
		if w.s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	w.implicitOK()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// WriteString keeps io.WriteString from copying s into a new []byte.
func (w *respWriter) WriteString(s string) (int, error) {
	w.implicitOK()
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

func (w *respWriter) Flush() {
	w.implicitOK()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// implicitOK is what a Write or Flush before WriteHeader means: 200 OK.
func (w *respWriter) implicitOK() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.code == 0 {
		w.code = http.StatusOK // after a 1xx alone
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// closeAfter says whether this response should end its connection: while
// draining, and past the per-connection request or age cap (so long-lived
// clients rebalance over workers).
func (s *Server) closeAfter(ci *connInfo) bool {
	if s.draining.Load() {
		return true
	}
	if ci == nil {
		return false
	}
	n := ci.reqs.Add(1)
	if s.opts.MaxConnRequests > 0 && n >= int64(s.opts.MaxConnRequests) {
		return true
	}
	return s.opts.MaxConnAge > 0 && time.Since(ci.born) >= s.opts.MaxConnAge
}

func (s *Server) acquire() *generation {
	for {
		g := s.cur.Load()
		g.refs.Add(1)
		if s.cur.Load() == g {
			return g
		}
		g.refs.Add(-1)
	}
}

// Swap installs p and returns the previous plugin once no request uses it
// (or, with an error, when ctx ended first).
func (s *Server) Swap(ctx context.Context, p Plugin) (Plugin, error) {
	old := s.cur.Swap(&generation{p: p})
	s.meter.retire(old.p)
	defer s.meter.freeze(old.p)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for old.refs.Load() > 0 {
		select {
		case <-ctx.Done():
			return old.p, fmt.Errorf("wait for old plugin's requests: %w", ctx.Err())
		case <-t.C:
		}
	}
	return old.p, nil
}

// Plugin is the plugin serving now.
func (s *Server) Plugin() Plugin { return s.cur.Load().p }

// Drain stops accepting, lets in-flight requests finish (answering them
// with Connection: close), closes connections idle for the grace period,
// and returns when none remain or ctx ends (then it closes everything).
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	s.goAwayH2()
	start := time.Now()
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close listener: %w", err)
	}
	// Wait for Serve to return: after that every accepted connection is
	// tracked (net/http sets StateNew before Serve can return).
	select {
	case <-s.served:
	case <-ctx.Done():
		s.closeAll()
		return fmt.Errorf("drain: serve did not return: %w", ctx.Err())
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		now := time.Now()
		s.mu.Lock()
		if now.Sub(start) >= s.opts.IdleGrace {
			for c, ci := range s.conns {
				idle := ci.state == http.StateIdle || ci.state == http.StateNew
				if idle && now.Sub(ci.since) >= s.opts.IdleGrace && quietSince(c, ci.since) {
					// Not Close: a read deadline in the past ends a read
					// that is still waiting (net/http then closes the
					// connection, StateClosed removes it), while a request
					// whose bytes were read an instant ago is still
					// answered, with Connection: close.
					c.SetReadDeadline(now)
				}
			}
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 && s.inFlight.Load() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return s.cut(n)
		case <-t.C:
		}
	}
}

// cut ends what a drain left at its cap: n tracked connections and the
// requests in flight. Upgraded streams (WebSockets) live until a side
// closes them, so ending them here is their expected end; only requests
// cut short are an error.
func (s *Server) cut(n int) error {
	requests := s.inFlight.Load() - s.streams.Load()
	s.endStreams()
	s.closeAll()
	if n == 0 && requests <= 0 {
		return nil
	}
	return fmt.Errorf("drain: %d connections, %d requests still open: %w", n, requests, ErrDrainTimeout)
}

// Stop closes the listener and every connection at once.
func (s *Server) Stop() error {
	s.draining.Store(true)
	return s.closeAll()
}

// closeAll closes the listener and every connection, hijacked ones
// included (through their requests' context).
func (s *Server) closeAll() error {
	s.cancelBase()
	return s.srv.Close()
}
