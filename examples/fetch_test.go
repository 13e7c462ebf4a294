package examples_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// fetchUpstream is what examples/fetch calls: /data answers 1234 bytes,
// /huge streams 1 GiB generated on the fly, /slow never answers its first
// call (until the caller gives up), /away redirects to another server.
func fetchUpstream(t *testing.T, elsewhere string) *httptest.Server {
	chunk := make([]byte, 64<<10)
	var slowCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data":
			w.Write([]byte(strings.Repeat("d", 1234)))
		case "/huge":
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
			for sent := 0; sent < 1<<30; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return // the caller stopped reading
				}
			}
		case "/slow":
			if slowCalls.Add(1) == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(time.Minute):
				}
				return
			}
			w.Write([]byte("late but fine"))
		case "/away":
			http.Redirect(w, r, elsewhere+"/data", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveFetch runs the binary serving examples/fetch with one worker.
func serveFetch(t *testing.T, guestConfig string, extra ...string) *testkit.Server {
	args := []string{"serve", example(t, "fetch"), "--listen", "127.0.0.1:0", "--log-format", "json",
		"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "1", "--control", "-",
		"--admin", "off", "--plugin-pool-size", "1", "--plugin-config", guestConfig}
	cmd := exec.Command(testkit.Wasmcluster(t), append(args, extra...)...)
	cmd.Env = testkit.Env(t)
	return testkit.Start(t, cmd)
}

// The promise: nothing granted, the same request answers 502 and
// names the target and the setting.
func TestFetchDeniedByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := fetchUpstream(t, "")
	s := serveFetch(t, up.URL+"/data")
	resp, body := do(t, "GET", s.URL()+"/", "")
	want := up.URL + " is not in outbound.allow"
	if resp.StatusCode != 502 || !strings.Contains(body, want) {
		t.Fatalf("got %d %q, want 502 saying %q", resp.StatusCode, body, want)
	}
}

func TestFetchAllowed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	other := fetchUpstream(t, "")
	up := fetchUpstream(t, other.URL)
	// 64 requests at once hold 64 instances while they wait on their calls:
	// 16 MiB each lets the pool grow that far within the memory budget, and
	// a generous pool wait and deadline keep a loaded test machine from
	// turning instance creation into 503s or 504s.
	s := serveFetch(t, up.URL+"/data", "--outbound-allow", up.URL, "--request-timeout", "60s",
		"--plugin-memory-limit-pages", "256", "--plugin-pool-wait", "20s", "--admin", "127.0.0.1:0")
	pid := workerPID(t, s.Cmd.Process.Pid)

	t.Run("allow", func(t *testing.T) {
		resp, body := do(t, "GET", s.URL()+"/", "")
		want := fmt.Sprintf("fetched 1234 bytes from %s/data (status 200)\n", up.URL)
		if resp.StatusCode != 200 || body != want {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	})
	t.Run("redirect escape refused", func(t *testing.T) {
		resp, body := do(t, "GET", s.URL()+"/?path=/away", "")
		want := other.URL + " is not in outbound.allow (redirected from " + up.URL + ")"
		if resp.StatusCode != 502 || !strings.Contains(body, want) {
			t.Fatalf("got %d %q, want 502 saying %q", resp.StatusCode, body, want)
		}
	})
	t.Run("huge response capped", func(t *testing.T) {
		resp, body := do(t, "GET", s.URL()+"/?path=/huge", "")
		if resp.StatusCode != 502 || !strings.Contains(body, "over outbound.max_response_body (10485760 bytes)") {
			t.Fatalf("got %d %q, want 502 naming outbound.max_response_body", resp.StatusCode, body)
		}
		// The 1 GiB answer streamed through bounded buffers: the worker's
		// peak resident memory stays far below it.
		hwm := peakRSS(t, pid)
		t.Logf("worker %d peak RSS %d MiB", pid, hwm>>20)
		if hwm > 200<<20 {
			t.Errorf("worker peak RSS %d MiB after a 1 GiB response capped at 10 MiB, want < 200 MiB", hwm>>20)
		}
	})
	t.Run("64 concurrent requests of 4 calls", func(t *testing.T) {
		concurrentFetches(t, s.URL()+"/?calls=4", 64, 4)
	})
	t.Run("metrics", func(t *testing.T) {
		admin := adminAddrOf(t, s)
		host := strings.TrimPrefix(up.URL, "http://")
		testkit.Eventually(t, 30*time.Second, func() error {
			_, body := do(t, "GET", "http://"+admin+"/metrics", "")
			for _, result := range []string{"ok", "denied", "too_large"} {
				series := fmt.Sprintf(`wasmcluster_outbound_calls_total{host=%q,result=%q,worker=`, host, result)
				if !strings.Contains(body, series) {
					return fmt.Errorf("/metrics has no %s", series)
				}
			}
			return nil
		})
	})
}

// adminAddrOf finds the admin listener's address in serve's JSON log.
func adminAddrOf(t *testing.T, s *testkit.Server) string {
	t.Helper()
	s.WaitLog(`"msg":"admin listening"`)
	for _, line := range strings.Split(s.Log.String(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "admin listening" {
			return rec.Addr
		}
	}
	t.Fatal("admin address not logged")
	return ""
}

// An upstream slower than the plugin request's deadline: that request is
// answered 504, and the worker goes on serving.
func TestFetchSlowUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := fetchUpstream(t, "")
	s := serveFetch(t, up.URL+"/slow", "--outbound-allow", up.URL, "--request-timeout", "2s")
	resp, _ := do(t, "GET", s.URL()+"/", "")
	if resp.StatusCode != 504 {
		t.Fatalf("got %d, want 504", resp.StatusCode)
	}
	resp, body := do(t, "GET", s.URL()+"/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "fetched 13 bytes") {
		t.Fatalf("the worker after a timeout: %d %q", resp.StatusCode, body)
	}
}

// concurrentFetches sends n requests at once, each making calls calls, and
// wants every one answered 200 with a line per call.
func concurrentFetches(t *testing.T, url string, n, calls int) {
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(url)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			lines := 0
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "fetched 1234 bytes") {
					lines++
				}
			}
			if resp.StatusCode != 200 || lines != calls {
				errs <- fmt.Sprintf("status %d, %d of %d calls", resp.StatusCode, lines, calls)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// workerPID is the one worker process the primary pid started.
func workerPID(t *testing.T, primary int) int {
	t.Helper()
	var pid int
	testkit.WaitFor(t, 30*time.Second, "a worker process", func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", primary, primary))
		f := strings.Fields(string(b))
		if len(f) == 0 {
			tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", primary))
			for _, tp := range tasks {
				b, _ := os.ReadFile(tp)
				f = append(f, strings.Fields(string(b))...)
			}
		}
		if len(f) > 0 {
			pid, _ = strconv.Atoi(f[0])
		}
		return pid > 0
	})
	return pid
}

// peakRSS is a process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM for %d", pid)
	return 0
}
