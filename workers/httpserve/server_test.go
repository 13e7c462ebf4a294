package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// Two servers share one listener as two workers do; draining one under
// keep-alive load must fail no request (the other keeps accepting).
func TestDrainUnderLoadLosesNothing(t *testing.T) {
	for round := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln2 := shareListener(t, ln)
		opts := Options{IdleGrace: 200 * time.Millisecond}
		a := New(opts, &testPlugin{version: "a"}, testLogger(), nil)
		b := New(opts, &testPlugin{version: "b"}, testLogger(), nil)
		a.Serve(ln)
		b.Serve(ln2)
		// Every fourth client opens a connection per request.
		l := testkit.StartLoad("http://"+ln.Addr().String()+"/", testkit.LoadOptions{
			Clients:     16,
			NoKeepAlive: func(i int) bool { return i%4 == 3 },
		})
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = a.Drain(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: drain: %v", round, err)
		}
		aDone := a.requests.Load()
		time.Sleep(300 * time.Millisecond)
		res := l.Stop()
		b.Stop()
		t.Logf("round %d: %v; a served %d", round, res, aDone)
		if res.Failed() != 0 || res.OK == 0 {
			t.Errorf("round %d: requests failed during drain: %v", round, res)
		}
		if a.requests.Load() != aDone {
			t.Errorf("round %d: drained server answered after drain returned", round)
		}
	}
}

// A drain waits for a slow in-flight request and closes idle keep-alive
// connections after the grace period.
func TestDrainWaitsForInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{IdleGrace: 100 * time.Millisecond}, &testPlugin{version: "a"}, testLogger(), nil)
	s.Serve(ln)
	base := "http://" + ln.Addr().String()
	idle := &http.Client{}
	resp, err := idle.Get(base + "/") // leaves one idle keep-alive connection
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	slow := make(chan *http.Response, 1)
	go func() {
		req, _ := testkit.StrictRequest(http.MethodPost, base+"/sleep?d=1s", "x")
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Errorf("slow request: %v", err)
			slow <- nil
			return
		}
		resp.Body.Close()
		slow <- resp
	}()
	testkit.WaitFor(t, 5*time.Second, "slow request in flight", func() bool { return s.inFlight.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.inFlight.Load(); n != 0 {
		t.Fatalf("drain returned with %d requests in flight", n)
	}
	select {
	case resp := <-slow:
		// Its headers went out after the drain began: Connection: close.
		if resp == nil || resp.StatusCode != 200 || !resp.Close {
			t.Errorf("slow request answer: %+v", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow request never answered")
	}
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d connections left after drain", n)
	}
}

// Every request is metered by status code and written to the access log,
// and a swapped-in plugin is metered the same way.
func TestServerMetersAndLogs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var access testkit.Buffer
	s := New(Options{AccessLog: AccessLogCommon}, &testPlugin{version: "a"}, testLogger(), &access)
	s.Serve(ln)
	defer s.Stop()
	base := "http://" + ln.Addr().String()
	get := func(path string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/one")
	old, err := s.Swap(t.Context(), &testPlugin{version: "b"})
	if err != nil || old.(*testPlugin).version != "a" {
		t.Fatalf("swap returned %v, %v", old, err)
	}
	get("/two")
	m := s.Metrics()
	if m.Codes[200] != 2 || m.Count() != 2 || s.Requests() != 2 || m.SumSeconds <= 0 {
		t.Errorf("metrics after 2 requests: %+v (requests %d)", m, s.Requests())
	}
	var inBuckets uint64
	for _, n := range m.Buckets {
		inBuckets += n
	}
	if inBuckets != 2 {
		t.Errorf("latency buckets hold %d requests, want 2", inBuckets)
	}
	lines := strings.Split(strings.TrimSuffix(access.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"GET /one HTTP/1.1" 200 1`) || !strings.Contains(lines[1], `"GET /two HTTP/1.1" 200 1`) {
		t.Errorf("access log:\n%s", access.String())
	}
}
