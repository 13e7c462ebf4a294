package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/outbound"
)

// The cost of an outbound call made by a guest, against the same call made
// by native Go. Both sides are a server on loopback whose handler, for
// each request, GETs 1 KiB from a loopback upstream with a pooled
// net/http transport and answers "fetched N bytes from URL (status S)":
// the guest is examples/fetch served by package host with the outbound
// client (by default, and with plugin.interrupt = false: guest-nointr), the
// native side a net/http handler with one http.Client. Load:
// 64 concurrent clients with keep-alive. The two sides alternate, rounds
// apart, in the same process.
//
//	go test ./bench -run '^$' -bench Outbound -benchtime 4000x
//
// Reported: ns/op (the inverse of throughput at 64 concurrent), p50-µs
// and p99-µs of the client-seen latency, cpu-µs/op of the whole process.
func BenchmarkOutbound(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(kib)
	}))
	defer up.Close()
	target := up.URL + "/data"
	guestSrv := outboundGuestServer(b, up.URL, target, false)
	defer guestSrv.Close()
	fastSrv := outboundGuestServer(b, up.URL, target, true)
	defer fastSrv.Close()
	nativeSrv := httptest.NewServer(nativeFetch(target))
	defer nativeSrv.Close()
	// Rounds alternate the sides, so a change in the machine's load hits
	// both (sub-benchmarks of -count N would run one side N times, then
	// the other).
	for range outboundRounds {
		b.Run("native", func(b *testing.B) { loadOutbound(b, nativeSrv.URL+"/") })
		b.Run("guest", func(b *testing.B) { loadOutbound(b, guestSrv.URL+"/") })
		b.Run("guest-nointr", func(b *testing.B) { loadOutbound(b, fastSrv.URL+"/") })
	}
}

const outboundRounds = 3

var kib = []byte(string(make([]byte, 1024)))

// outboundGuestServer serves examples/fetch; uninterruptible is
// plugin.interrupt = false (no deadline watcher: Go guest code runs
// several times faster).
func outboundGuestServer(b *testing.B, allow, target string, uninterruptible bool) *httptest.Server {
	policy, err := outbound.Parse([]string{allow})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := host.New(ctx, testkit.GoWasm(b, "../examples/fetch", "-ldflags=-s -w"), host.Config{
		GuestConfig: []byte(target), Outbound: outbound.New(outbound.Options{Policy: policy}),
		Logger: slog.New(slog.DiscardHandler), PoolSize: 64,
		// One instance per concurrent request, kept (a smaller pool would
		// instantiate and drop instances all along); 16 MiB each.
		MemoryLimitPages: 256, PoolWait: 10 * time.Second, Uninterruptible: uninterruptible,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(context.Background()) })
	return httptest.NewServer(p)
}

// nativeFetch is the guest's work in native Go.
func nativeFetch(target string) http.Handler {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	buf := make([]byte, 32<<10)
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		mu.Lock() // one shared buffer, like the guest's (an instance runs one request)
		n, _ := io.CopyBuffer(io.Discard, resp.Body, buf)
		mu.Unlock()
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "fetched %d bytes from %s (status %d)\n", n, target, resp.StatusCode)
	})
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadOutbound sends b.N GETs from 64 goroutines and reports latency
// percentiles.
func loadOutbound(b *testing.B, url string) {
	const conc = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	lat := make([][]time.Duration, conc)
	next := make(chan struct{}, b.N)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	var wg sync.WaitGroup
	cpu0 := processCPU()
	b.ResetTimer()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	// The whole process's CPU (client, server and upstream alike on both
	// sides): steadier than wall time on a shared machine.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	client.CloseIdleConnections()
}
