package httpserve

import (
	"crypto/tls"
	"net"
	"net/http"
)

// ServeTLS starts serving ln in the background with TLS terminated here by
// cfg, whose GetCertificate may change the certificate between handshakes.
// HTTP/2 is offered when cfg's NextProtos lists "h2" (net/http's own).
func (s *Server) ServeTLS(ln net.Listener, cfg *tls.Config) {
	s.ln = ln
	go func() { s.served <- s.srv.Serve(tls.NewListener(trackListener{ln}, cfg)) }()
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
