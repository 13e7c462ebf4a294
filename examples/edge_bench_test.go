package examples_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
)

// BenchmarkWebSocketRelay measures WebSocket echo throughput (1 KiB
// messages, 16 sockets each sending its next message when the echo of the
// last one is back) straight to the upstream and through wasmcluster
// (auth-middleware, two workers), side by side: three rounds, each
// measuring both (a busy shared box changes speed by the minute):
//
//	go test ./examples -run '^$' -bench WebSocketRelay -benchtime 20000x
func BenchmarkWebSocketRelay(b *testing.B) {
	up := wstest.Echo(b)
	e := serveEdge(b, example(b, "auth-middleware"), up.URL)
	hdr := http.Header{"Authorization": {"Bearer " + authToken}}
	for range 3 {
		for _, tc := range []struct{ name, url string }{
			{"direct", "ws://" + up.Listener.Addr().String() + "/ws"},
			{"wasmcluster", "ws://" + e.Addr + "/ws"},
		} {
			b.Run(tc.name, func(b *testing.B) { relay(b, tc.url, hdr, 16, e.Cmd.Process.Pid) })
		}
	}
}

// relay sends b.N messages over sockets WebSockets to url and reports
// messages per second, and the CPU time the wasmcluster processes (pid and
// its descendants) spent per message: on a shared box the steadier figure.
func relay(b *testing.B, url string, hdr http.Header, sockets, pid int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conns := make([]*websocket.Conn, sockets)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		defer c.CloseNow()
		conns[i] = c
	}
	msg := []byte(strings.Repeat("m", 1024))
	var left atomic.Int64
	left.Store(int64(b.N))
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), treeCPU(pid)
	for _, c := range conns {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
					failed.Store(err)
					return
				}
				if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, msg) {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), treeCPU(pid)-cpu0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatalf("relay: %v", err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "wc-cpu-µs/msg")
}

// treeCPU is the user+system CPU time of pid and its descendants, from
// /proc (clock ticks of 10 ms).
func treeCPU(pid int) time.Duration {
	parent := map[int]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state ppid … utime(12) stime(13).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks[p] = u + s
	}
	var total int64
	for p, t := range ticks {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				total += t
				break
			}
		}
	}
	return time.Duration(total) * 10 * time.Millisecond
}
