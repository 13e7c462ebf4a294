package httpserve

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The serving path's own cost per request, over real loopback sockets,
// against plain net/http serving the same handler (the WAT hello's bytes).
// The client writes a fixed request and reads into a fixed buffer, so
// allocs/op is the server's:
//
//	go test ./workers/httpserve -run '^$' -bench Serve -benchmem -cpu 1
func BenchmarkServe(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		ln := benchListener(b)
		srv := &http.Server{Handler: helloPlugin{}}
		go srv.Serve(ln)
		defer srv.Close()
		benchClients(b, ln.Addr().String())
	})
	b.Run("httpserve", func(b *testing.B) {
		ln := benchListener(b)
		s := New(Options{}, helloPlugin{}, testLogger(), nil)
		s.Serve(ln)
		defer s.Stop()
		benchClients(b, ln.Addr().String())
	})
	// The worker's whole path: this server and package host serving the
	// WAT hello (the guest's own work is two host calls).
	b.Run("httpserve+host", func(b *testing.B) {
		p, err := host.New(context.Background(), testkit.WATFile(b, "../../bench/guests/hello.wat"), host.Config{Name: "hello"})
		if err != nil {
			b.Fatal(err)
		}
		ln := benchListener(b)
		s := New(Options{}, p, testLogger(), nil)
		s.Serve(ln)
		defer s.Stop()
		benchClients(b, ln.Addr().String())
	})
}

// helloPlugin answers like bench/guests/hello.wat, natively.
type helloPlugin struct{}

func (helloPlugin) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("content-type", "text/plain")
	io.WriteString(w, "hello from wat\n")
}

func (helloPlugin) Close(context.Context) error { return nil }

func benchListener(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

// benchClients runs b.N keep-alive requests from GOMAXPROCS clients,
// reconnecting when the server ends a connection (its request cap).
func benchClients(b *testing.B, addr string) {
	req := []byte("GET /bench?q=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		var c net.Conn
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for pb.Next() {
			if c == nil {
				var err error
				if c, err = net.Dial("tcp", addr); err != nil {
					b.Error(err)
					return
				}
			}
			if !roundTrip(c, req, buf) {
				c.Close()
				c = nil
			}
		}
	})
}

// roundTrip sends req and reads one hello response (headers, then the
// 15-byte body); it reports whether the connection stays open.
func roundTrip(c net.Conn, req, buf []byte) bool {
	if _, err := c.Write(req); err != nil {
		return false
	}
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 && n >= i+4+len("hello from wat\n") {
			return !bytes.Contains(buf[:i], []byte("Connection: close"))
		}
		if err != nil || n == len(buf) {
			return false
		}
	}
}
