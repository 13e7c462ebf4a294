package httpserve

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
)

// ServeTLS starts serving ln in the background with TLS terminated here by
// cfg, whose GetCertificate may change the certificate between handshakes.
// HTTP/2 is offered when cfg's NextProtos lists "h2" (net/http's own).
func (s *Server) ServeTLS(ln net.Listener, cfg *tls.Config) {
	s.ln = ln
	// The PROXY protocol header comes before the TLS handshake.
	go func() { s.served <- s.srv.Serve(tls.NewListener(trackListener{s.edge.listener(ln)}, cfg)) }()
}

// protocols is the http.Server's Protocols: nil (HTTP/1 and, over TLS,
// HTTP/2: net/http's defaults) unless H2C adds HTTP/2 without TLS.
func (o Options) protocols() *http.Protocols {
	if !o.H2C {
		return nil
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// plainConn is the connection under TLS, where the server's bookkeeping
// (trackedConn) lives.
func plainConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

// HTTP/2 connections are drained with a GOAWAY, which tells the client to
// open a new connection (to another worker) for its next requests and lets
// the streams in flight finish. net/http sends it only from Shutdown, which
// also closes idle HTTP/1 connections under clients' feet (see doc.go). So
// HTTP/2 is set up on a server of its own that never serves (h2): the
// serving server uses its handlers (TLSNextProto), and h2.Shutdown reaches
// exactly the HTTP/2 connections.

// setupH2 gives s.srv the HTTP/2 handlers of a server that only exists to
// be shut down.
func (s *Server) setupH2() {
	var all http.Protocols
	all.SetHTTP1(true)
	all.SetHTTP2(true)
	all.SetUnencryptedHTTP2(true)
	s.h2 = &http.Server{IdleTimeout: s.srv.IdleTimeout, MaxHeaderBytes: s.srv.MaxHeaderBytes, Protocols: &all}
	s.h2.Serve(noListener{}) // sets up HTTP/2 (TLSNextProto), then returns
	s.srv.TLSNextProto = s.h2.TLSNextProto
}

// goAwayH2 sends every HTTP/2 connection a GOAWAY; each closes once its
// streams are done.
func (s *Server) goAwayH2() {
	go s.h2.Shutdown(context.Background()) // it tracks no connection: returns at once
}

// noListener accepts nothing.
type noListener struct{}

func (noListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (noListener) Close() error              { return nil }
func (noListener) Addr() net.Addr            { return &net.TCPAddr{} }
