package httpserve

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The serving path's own cost per request, over real loopback sockets,
// against plain net/http serving the same handler (the WAT hello's bytes).
// The client writes a fixed request and reads into a fixed buffer, so
// allocs/op is the server's. cpu-ns/op is the process's user+system CPU
// time per request (getrusage), client and server together, the client's
// share the same in every case: steadier than ns/op on a shared box.
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
	// plugin.interrupt = false: without wazero's goroutine per guest call
	// (three allocations: its closure, channel and cancel func).
	for _, c := range []struct {
		name string
		cfg  host.Config
	}{{"httpserve+host", host.Config{Name: "hello"}}, {"httpserve+host-nointerrupt", host.Config{Name: "hello", Uninterruptible: true}}} {
		b.Run(c.name, func(b *testing.B) {
			p, err := host.New(context.Background(), testkit.WATFile(b, "../../bench/guests/hello.wat"), c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ln := benchListener(b)
			s := New(Options{}, p, testLogger(), nil)
			s.Serve(ln)
			defer s.Stop()
			benchClients(b, ln.Addr().String())
		})
	}
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
	b.SetParallelism(16)
	cpu0 := processCPU(b)
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op") }()
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

// processCPU is this process's user+system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
