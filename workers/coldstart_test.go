package workers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// run is a primary running in the background: done is closed when Run
// returned err.
type run struct {
	done chan struct{}
	err  error
}

// runPrimary runs a primary on opts in the background until the test ends.
func runPrimary(t *testing.T, opts PrimaryOptions) (*Primary, *run) {
	t.Helper()
	pr, err := NewPrimary(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{done: make(chan struct{})}
	go func() {
		r.err = pr.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return pr, r
}

// A cold start whose workers never become ready gives up after
// Backoff.CrashLoop failures in a row, with the workers' reason, instead
// of crash-looping forever with the port open.
func TestColdStartGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  testPluginConfig
		want string
	}{
		{"load fails", testPluginConfig{FailLoad: true}, "load plugin: test plugin told to fail"},
		{"self-test fails", testPluginConfig{SelfTest: 500}, "self-test: GET / answered 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOptions(t, 2)
			opts.Spec = testSpec("bad", tc.cfg)
			opts.Backoff = Backoff{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond, CrashLoop: 3}
			_, r := runPrimary(t, opts)
			select {
			case <-r.done:
				err := r.err
				if !errors.Is(err, ErrNoWorkerReady) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "3 times") {
					t.Fatalf("Run = %v, want ErrNoWorkerReady after 3 failures with %q", err, tc.want)
				}
				t.Logf("Run: %v", err)
			case <-time.After(2 * time.Minute):
				t.Fatal("primary still running 2 minutes into a cold start whose workers all fail")
			}
		})
	}
}

// While no worker is ready and one failed, the primary answers 503 with
// Retry-After at once instead of leaving connections in the backlog.
func TestUnavailableWhileNoWorkerReady(t *testing.T) {
	opts := baseOptions(t, 1)
	opts.Spec = testSpec("bad", testPluginConfig{FailLoad: true})
	opts.Backoff = Backoff{Base: 3 * time.Second, Max: 3 * time.Second, CrashLoop: 1000}
	pr, _ := runPrimary(t, opts)
	testkit.WaitFor(t, time.Minute, "a failed worker", func() bool {
		st := pr.Status()
		return len(st.Workers) == 1 && st.Workers[0].Restarts >= 1
	})
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url(pr))
	if err != nil {
		t.Fatalf("request while no worker is ready: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusServiceUnavailable || ra < 1 || !resp.Close {
		t.Fatalf("answer %d, Retry-After %q, close %v: %s; want 503, Retry-After >= 1, Connection: close",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close, body)
	}
}

// After a good start, a worker that keeps crashing is respawned for ever
// (reported as a crash loop), the 503s stop once one is ready again, and
// the primary never exits because of it.
func TestCrashLoopAfterGoodStart(t *testing.T) {
	opts := baseOptions(t, 1)
	opts.Spec = testSpec("crashy", testPluginConfig{CrashAfter: 300 * time.Millisecond})
	opts.Backoff = Backoff{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond, CrashLoop: 3}
	pr, r := runPrimary(t, opts)
	testkit.WaitFor(t, time.Minute, "a crash loop in status", func() bool {
		st := pr.Status()
		return len(st.Workers) == 1 && st.Workers[0].CrashLoop && st.Workers[0].Restarts >= 5
	})
	select {
	case <-r.done:
		t.Fatalf("primary exited on a crash loop after a good start: %v", r.err)
	default:
	}
	if w := pr.Status().Workers[0]; !strings.Contains(w.LastExit, "exit status 3") {
		t.Errorf("last exit %q, want exit status 3", w.LastExit)
	}
}
