package workers

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// Two servers share one listener as two workers do; draining one under
// keep-alive load must fail no request (the other keeps accepting).
func TestDrainUnderLoadLosesNothing(t *testing.T) {
	for round := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := dupListener(ln)
		if err != nil {
			t.Fatal(err)
		}
		ln2, err := net.FileListener(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		opts := ServerOptions{IdleGrace: 200 * time.Millisecond}
		a := newServer(opts, &testPlugin{version: "a"}, testLogger())
		b := newServer(opts, &testPlugin{version: "b"}, testLogger())
		a.serve(ln)
		b.serve(ln2)
		l := startLoad("http://"+ln.Addr().String()+"/", 16, true)
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = a.drain(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: drain: %v", round, err)
		}
		aDone := a.requests.Load()
		time.Sleep(300 * time.Millisecond)
		l.finish()
		b.stop()
		t.Logf("round %d: %v; a served %d", round, l, aDone)
		if l.failed() != 0 {
			t.Errorf("round %d: %d requests failed during drain: %v", round, l.failed(), l)
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
	s := newServer(ServerOptions{IdleGrace: 100 * time.Millisecond}, &testPlugin{version: "a"}, testLogger())
	s.serve(ln)
	base := "http://" + ln.Addr().String()
	idle := &http.Client{}
	resp, err := idle.Get(base + "/") // leaves one idle keep-alive connection
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	slow := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/sleep?d=1s", noRetryBody("x"))
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Errorf("slow request: %v", err)
			slow <- nil
			return
		}
		resp.Body.Close()
		slow <- resp
	}()
	waitFor(t, 5*time.Second, "slow request in flight", func() bool { return s.inFlight.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.drain(ctx); err != nil {
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
