package testkit

import (
	"net"
	"testing"
)

// FreePort is a loopback TCP port that was free a moment ago: for a
// server whose address must be known before it starts (a route list, a
// restart on the same port). Another process may take it meanwhile; a
// caller that can retry on a bind error should.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
