package main

// Benchmarks of what a user waits for (issue 6), through the real binary:
// cold start with a warm compilation cache (command start → first 200 on
// GET /) and swap latency (plugin file replaced → every answer from the new
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// benchBin is the binary benchmarks run.
func benchBin() string {
	if b := os.Getenv("WASMCLUSTER_BENCH_BIN"); b != "" {
		return b
	}
	return binPath
}

// buildGoGuest builds a Go guest package with extra ldflags (e.g. a version).
func buildGoGuest(tb testing.TB, pkg, ldflags string) []byte {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "guest.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags", "-s -w "+ldflags, "-o", out, pkg)
	cmd.Env = append(testEnv(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func freePort(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// benchServe is a serve process started by a benchmark.
type benchServe struct {
	cmd     *exec.Cmd
	addr    string
	stderr  *lockedBuffer
	started time.Time
}

func startBenchServe(tb testing.TB, args ...string) *benchServe {
	tb.Helper()
	s := &benchServe{addr: freePort(tb), stderr: &lockedBuffer{}}
	s.cmd = exec.Command(benchBin(), append([]string{"serve", "--listen", s.addr, "--admin", "off", "--log-format", "json"}, args...)...)
	s.cmd.Env = testEnv()
	s.cmd.Stderr = s.stderr
	groupAndWaitDelay(s.cmd)
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// firstOK polls GET / every 2 ms until a 200 and returns when it came.
func (s *benchServe) firstOK(tb testing.TB) time.Time {
	tb.Helper()
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get("http://" + s.addr + "/"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("no 200 within 60 s; stderr:\n%s", s.stderr)
	return time.Time{}
}

func (s *benchServe) stop() {
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		killGroup(s.cmd)
		<-done
	}
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
	guests := map[string][]byte{"hello-sdk": buildGoGuest(b, "../../examples/hello", "")}
	if _, err := exec.LookPath("wat2wasm"); err == nil {
		out := filepath.Join(b.TempDir(), "hello.wasm")
		if msg, err := exec.Command("wat2wasm", "testdata/hello.wat", "-o", out).CombinedOutput(); err != nil {
			b.Fatalf("wat2wasm: %v\n%s", err, msg)
		}
		guests["hello-wat"], _ = os.ReadFile(out)
	}
	for _, name := range []string{"hello-sdk", "hello-wat"} {
		wasm, ok := guests[name]
		if !ok {
			continue
		}
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
				warm.stop()
				var runs []time.Duration
				b.ResetTimer()
				for range b.N {
					s := startBenchServe(b, args...)
					at := s.firstOK(b)
					b.StopTimer()
					runs = append(runs, at.Sub(s.started))
					s.stop()
					b.StartTimer()
				}
				b.ReportMetric(ms(median(runs)), "ms-p50")
				b.ReportMetric(ms(slices.Max(runs)), "ms-max")
			})
		}
	}
}

// answerLog records when each answer of a load came and from which version.
type answerLog struct {
	stop   atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	at     []time.Time
	body   []string
	failed int
}

// startAnswerLog runs clients that never retry (bodies without GetBody),
// half on keep-alive connections.
func startAnswerLog(url string, clients int) *answerLog {
	l := &answerLog{}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{DisableKeepAlives: i%2 == 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			for !l.stop.Load() {
				req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader("ping")))
				resp, err := c.Do(req)
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				now := time.Now()
				l.mu.Lock()
				if err != nil {
					l.failed++
				} else {
					l.at, l.body = append(l.at, now), append(l.body, string(b))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *answerLog) finish() {
	l.stop.Store(true)
	l.wg.Wait()
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
	a := buildGoGuest(b, "../../bench/guests/version", "-X main.version=A")
	bb := buildGoGuest(b, "../../bench/guests/version", "-X main.version=B")
	n := workers.UsableCPUs()
	for _, kind := range []string{"warm", "new"} {
		b.Run(fmt.Sprintf("go/%s/workers=%d", kind, n), func(b *testing.B) {
			dir := b.TempDir()
			plugin := filepath.Join(dir, "plugin.wasm")
			if err := os.WriteFile(plugin, a, 0o644); err != nil {
				b.Fatal(err)
			}
			sock := filepath.Join(shortDirB(b), "c.sock")
			s := startBenchServe(b, plugin, "--workers", strconv.Itoa(n), "--cache-dir", filepath.Join(dir, "cache"),
				"--control", sock, "--log-level", "info")
			defer s.stop()
			s.firstOK(b)
			l := startAnswerLog("http://"+s.addr+"/", 4)
			defer l.finish()
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
				waitRolledB(b, sock, sha(next), n, 60*time.Second)
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
			l.finish()
			b.ReportMetric(float64(l.failed), "failed")
			if l.failed != 0 {
				b.Errorf("%d requests failed during swaps", l.failed)
			}
		})
	}
}

func shortDirB(tb testing.TB) string {
	d, err := os.MkdirTemp("", "wcb")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// waitRolledB waits until every one of n workers runs version and no roll
// is under way.
func waitRolledB(tb testing.TB, sock, version string, n int, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		st, err := control.QueryStatus(tb.Context(), sock)
		if err == nil && st.Version == version && st.Target == "" && len(st.Workers) == n {
			all := true
			for _, w := range st.Workers {
				all = all && w.State == "ready" && w.Version == version
			}
			if all {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("not all %d workers on %.12s within %v", n, version, timeout)
}
