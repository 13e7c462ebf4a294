package main

// Benchmarks of what a user waits for, through the real binary: cold
// start with a warm compilation cache (command start → first 200 on GET /)
// and swap latency (plugin file replaced → every answer from the new
// version, under load). Timing belongs here, not in tests.
//
//	go test ./cmd/wasmcluster -run '^$' -bench 'ColdStart|Swap' -benchtime 5x
//
// WASMCLUSTER_BENCH_BIN=/path/to/wasmcluster measures another build (say,
// an older commit) with the same harness.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
)

// benchBin is the binary benchmarks run.
func benchBin(tb testing.TB) string {
	if b := os.Getenv("WASMCLUSTER_BENCH_BIN"); b != "" {
		return b
	}
	return bin(tb)
}

func freePort(tb testing.TB) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(tb)))
}

// benchServe is a serve process started by a benchmark: launched, not
// awaited (it logs at warn, and the benchmark times its start), on a port
// picked for it.
type benchServe struct {
	*testkit.Server
	started time.Time
}

func startBenchServe(tb testing.TB, args ...string) *benchServe {
	tb.Helper()
	addr := freePort(tb)
	cmd := exec.Command(benchBin(tb), append([]string{"serve", "--listen", addr, "--admin", "off", "--log-format", "json"}, args...)...)
	cmd.Env = testkit.Env(tb)
	started := time.Now()
	s := &benchServe{Server: testkit.Launch(tb, cmd), started: started}
	s.Addr = addr
	return s
}

// firstOK polls GET / every 2 ms until a 200 and returns when it came.
func (s *benchServe) firstOK(tb testing.TB) time.Time {
	tb.Helper()
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get("http://" + s.Addr + "/"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("no 200 within 60 s; stderr:\n%s", s.Log)
	return time.Time{}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkColdStart: command start → first 200, compilation cache warm
// (the version was served once before), for the SDK hello guest and a WAT
// hello, in-process and with one worker per usable CPU. ns/op is the start
// alone; ms-p50 is the median start.
func BenchmarkColdStart(b *testing.B) {
	guests := map[string][]byte{
		"hello-sdk": testkit.GoWasm(b, "../../examples/hello", "-ldflags=-s -w"),
		"hello-wat": testkit.WATFile(b, "testdata/hello.wat"),
	}
	for _, name := range []string{"hello-sdk", "hello-wat"} {
		wasm := guests[name]
		for _, n := range []int{0, workers.UsableCPUs()} {
			b.Run(fmt.Sprintf("%s/workers=%d", name, n), func(b *testing.B) {
				dir := b.TempDir()
				plugin := filepath.Join(dir, name+".wasm")
				if err := os.WriteFile(plugin, wasm, 0o644); err != nil {
					b.Fatal(err)
				}
				args := []string{plugin, "--workers", strconv.Itoa(n), "--cache-dir", filepath.Join(dir, "cache"),
					"--control", "-", "--log-level", "warn"}
				warm := startBenchServe(b, args...) // fills the compilation cache
				warm.firstOK(b)
				warm.Stop()
				var runs []time.Duration
				b.ResetTimer()
				for range b.N {
					s := startBenchServe(b, args...)
					at := s.firstOK(b)
					b.StopTimer()
					runs = append(runs, at.Sub(s.started))
					s.Stop()
					b.StartTimer()
				}
				b.ReportMetric(ms(median(runs)), "ms-p50")
				b.ReportMetric(ms(slices.Max(runs)), "ms-max")
			})
		}
	}
}

// answerLog is strict load (testkit.StartLoad), half on keep-alive
// connections, that records when each good answer came and from which
// version.
type answerLog struct {
	*testkit.Load
	mu   sync.Mutex
	at   []time.Time
	body []string
}

func startAnswerLog(url string, clients int) *answerLog {
	l := &answerLog{}
	l.Load = testkit.StartLoad(url, testkit.LoadOptions{
		Clients:     clients,
		NoKeepAlive: func(i int) bool { return i%2 == 1 },
		Timeout:     20 * time.Second,
		Check: func(_ *http.Response, body []byte, _ time.Time) string {
			now := time.Now()
			l.mu.Lock()
			l.at, l.body = append(l.at, now), append(l.body, string(body))
			l.mu.Unlock()
			return ""
		},
	})
	return l
}

// swapTimes returns, relative to t0, when the first answer from want came
// and when the last answer from anything else came (0 if none after t0).
func (l *answerLog) swapTimes(t0 time.Time, want string) (firstNew, lastOld time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, at := range l.at {
		if at.Before(t0) {
			continue
		}
		if l.body[i] == want {
			if firstNew == 0 {
				firstNew = at.Sub(t0)
			}
		} else {
			lastOld = at.Sub(t0)
		}
	}
	return firstNew, lastOld
}

// BenchmarkSwap: the SDK version guest (~1.9 MB, as big as the SDK hello)
// served by one worker per usable CPU under 4 clients; each op renames a new
// version over the plugin file. "warm" alternates two versions already
// compiled (a revert); "new" serves a version never seen, compiled during
// the swap (a deploy). ms-all-new is file write → the last answer from the
// old version (every later one is new); ms-first-new the first new answer.
func BenchmarkSwap(b *testing.B) {
	a := testkit.GoWasm(b, "../../bench/guests/version", "-ldflags=-s -w -X main.version=A")
	bb := testkit.GoWasm(b, "../../bench/guests/version", "-ldflags=-s -w -X main.version=B")
	n := workers.UsableCPUs()
	for _, kind := range []string{"warm", "new"} {
		b.Run(fmt.Sprintf("go/%s/workers=%d", kind, n), func(b *testing.B) {
			dir := b.TempDir()
			plugin := filepath.Join(dir, "plugin.wasm")
			if err := os.WriteFile(plugin, a, 0o644); err != nil {
				b.Fatal(err)
			}
			sock := filepath.Join(testkit.SocketDir(b), "c.sock")
			s := startBenchServe(b, plugin, "--workers", strconv.Itoa(n), "--cache-dir", filepath.Join(dir, "cache"),
				"--control", sock, "--log-level", "info")
			defer s.Stop()
			s.firstOK(b)
			l := startAnswerLog("http://"+s.Addr+"/", 4)
			defer l.Stop()
			swap := func(i int) (time.Duration, time.Duration) {
				next, want := bb, "version B\n"
				if i%2 == 0 {
					next, want = a, "version A\n"
				}
				if kind == "new" {
					// The same module plus a custom section naming the swap:
					// a version whose code is not in the cache.
					tag := fmt.Sprintf("swap-%d-%d", i, time.Now().UnixNano())
					next = append(slices.Clip(next), 0x00, byte(2+len(tag)), byte(len(tag)))
					next = append(append(next, tag...), 0x01)
				}
				tmp := plugin + ".tmp"
				if err := os.WriteFile(tmp, next, 0o644); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := os.Rename(tmp, plugin); err != nil {
					b.Fatal(err)
				}
				waitRolled(b, sock, sha(next), n, 60*time.Second)
				time.Sleep(300 * time.Millisecond) // answers still in flight from the old version
				return l.swapTimes(t0, want)
			}
			if kind == "warm" {
				swap(1) // compile B once; A is compiled already
				swap(2)
			}
			var firsts, alls []time.Duration
			b.ResetTimer()
			for i := range b.N {
				first, lastOld := swap(i + 1)
				firsts, alls = append(firsts, first), append(alls, max(first, lastOld))
			}
			b.StopTimer()
			b.ReportMetric(ms(median(firsts)), "ms-first-new")
			b.ReportMetric(ms(median(alls)), "ms-all-new")
			b.ReportMetric(ms(slices.Max(alls)), "ms-all-new-max")
			res := l.Stop()
			b.ReportMetric(float64(res.Failed()), "failed")
			if res.Failed() != 0 {
				b.Errorf("%d requests failed during swaps: %v", res.Failed(), res)
			}
		})
	}
}
