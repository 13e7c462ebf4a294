package testkit

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every answer is counted once, under the class the server chose for it.
func TestLoadCountsEveryAnswer(t *testing.T) {
	var mu sync.Mutex
	served := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		kind := []string{"status 503", "bad", "good"}[n%3]
		mu.Lock()
		served[kind]++
		mu.Unlock()
		if kind == "status 503" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprint(w, kind)
	}))
	defer srv.Close()
	l := StartLoad(srv.URL, LoadOptions{
		Clients:     4,
		NoKeepAlive: func(i int) bool { return i%2 == 1 },
		Request: func(i, n int) (string, string, string) {
			return http.MethodPut, "/x?n=" + strconv.Itoa(n), strings.Repeat("b", n%100)
		},
		Check: func(_ *http.Response, body []byte, _ time.Time) string {
			if string(body) == "bad" {
				return "bad"
			}
			return ""
		},
	})
	l.WaitOK(t, 20, time.Minute)
	res := l.Stop()
	mu.Lock()
	defer mu.Unlock()
	if res.OK != served["good"] || res.Failures["status 503"] != served["status 503"] || res.Failures["bad"] != served["bad"] || len(res.Failures) != 2 {
		t.Errorf("load counted %v; the server served %v", res, served)
	}
}

// A keep-alive connection the server closes without answering costs a
// request, which a strict load counts: net/http does not send it again.
// The control: a plain client's GET on the same server is retried, so the
// server is one on which a retry would show.
func TestLoadNeverRetries(t *testing.T) {
	var received atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		io.Copy(io.Discard, r.Body)
		n := r.Context().Value(connRequests{}).(*atomic.Int64)
		if n.Add(1)%2 == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // drop the connection without an answer
			}
			return
		}
		fmt.Fprint(w, "ok")
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connRequests{}, new(atomic.Int64))
	}
	srv.Start()
	defer srv.Close()

	// GET: the method net/http replays when it can.
	get := func(int, int) (string, string, string) { return http.MethodGet, "/", "ping" }
	l := StartLoad(srv.URL, LoadOptions{Clients: 2, Request: get})
	WaitFor(t, time.Minute, "20 requests", func() bool { return received.Load() >= 20 })
	res := l.Stop()
	dropped := res.Failures[EOF] + res.Failures[Reset]
	if dropped == 0 || dropped != res.Failed() {
		t.Errorf("load counted %v; want only dropped (eof or reset) failures, at least one", res)
	}
	if got := int(received.Load()); got != res.OK+res.Failed() {
		t.Errorf("the server received %d requests, the load sent %d (%v): a request was sent twice", got, res.OK+res.Failed(), res)
	}

	received.Store(0)
	c := &http.Client{Timeout: time.Minute}
	defer c.CloseIdleConnections()
	for range 10 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("plain client: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := received.Load(); got <= 10 {
		t.Errorf("the server received %d requests for 10 plain GETs, want retries on top", got)
	}
}

type connRequests struct{}

func TestLoadCountsRefusals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := StartLoad("http://"+addr, LoadOptions{})
	WaitFor(t, time.Minute, "a refused request", func() bool { return l.Result().Failures[Refused] > 0 })
	if res := l.Stop(); res.OK != 0 || res.Failed() != res.Failures[Refused] {
		t.Errorf("load counted %v; want only refusals", res)
	}
}

// With Pause, a client waits after each answer: no two of its requests
// arrive closer together than the pause.
func TestLoadPause(t *testing.T) {
	const pause = 30 * time.Millisecond
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	l := StartLoad(srv.URL, LoadOptions{Pause: pause})
	WaitFor(t, time.Minute, "5 answers", func() bool { return l.Result().OK >= 5 })
	if res := l.Stop(); res.Failed() != 0 {
		t.Fatalf("load: %v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < pause {
			t.Errorf("requests %d and %d arrived %v apart, less than the pause %v", i-1, i, gap, pause)
		}
	}
}
