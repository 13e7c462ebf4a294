package workers

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkServe measures the process layer with a trivial Go handler (so
// the numbers are the layer's, not a plugin's): throughput, p99 latency and
// the spread of requests over workers, for 0 (in-process), 1 and 2 workers,
// 16 keep-alive clients. The load generator shares the machine's CPUs.
//
//	go test -run '^$' -bench Serve -benchtime 20000x ./workers
func BenchmarkServe(b *testing.B) {
	for _, n := range []int{InProcess, 1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			opts := baseOptions(b, n)
			opts.Load = loadTestPlugin
			url := ""
			if n == InProcess {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				opts.Listener = ln
				ready := make(chan struct{})
				opts.OnReady = func(net.Addr) { close(ready) }
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- RunPrimary(ctx, opts) }()
				defer func() { cancel(); <-done }()
				<-ready
				url = "http://" + ln.Addr().String() + "/"
			} else {
				url = "http://" + startPrimary(b, opts).Addr().String() + "/"
			}
			const clients = 16
			var mu sync.Mutex
			var lat []time.Duration
			perPID := map[string]int{}
			failed := 0
			var wg sync.WaitGroup
			per := b.N/clients + 1
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
					local := make([]time.Duration, 0, per)
					pids := map[string]int{}
					bad := 0
					for range per {
						t0 := time.Now()
						req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader("x")))
						resp, err := c.Do(req)
						if err != nil {
							bad++
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						local = append(local, time.Since(t0))
						pids[resp.Header.Get("X-Worker-Pid")]++
					}
					mu.Lock()
					lat = append(lat, local...)
					for k, v := range pids {
						perPID[k] += v
					}
					failed += bad
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
			counts := make([]int, 0, len(perPID))
			for _, v := range perPID {
				counts = append(counts, v)
			}
			slices.Sort(counts)
			if len(counts) > 1 {
				b.ReportMetric(float64(counts[len(counts)-1])/float64(max(counts[0], 1)), "busiest/idlest")
			}
			if failed > 0 {
				b.Errorf("%d requests failed", failed)
			}
		})
	}
}
