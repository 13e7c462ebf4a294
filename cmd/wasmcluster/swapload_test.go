package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// swapLoad is the strict load of the hot-swap tests (testkit.StartLoad:
// never retried, every failure counted), keep-alive and not, GET and POST.
// Every answer must come from a known version; after setExpect(v), a
// request started later must be answered by version v.
type swapLoad struct {
	*testkit.Load
	known map[string]bool

	mu          sync.Mutex
	expect      string
	expectSince time.Time
	stale       int
	lastStale   string
	versions    map[string]int
}

func startSwapLoad(url string, clients int, known ...string) *swapLoad {
	l := &swapLoad{known: map[string]bool{}, versions: map[string]int{}}
	for _, k := range known {
		l.known[k] = true
	}
	l.Load = testkit.StartLoad(url, testkit.LoadOptions{
		Clients:     clients,
		NoKeepAlive: func(i int) bool { return i%2 == 1 },
		Request:     swapRequest,
		Check:       l.judge,
		Timeout:     20 * time.Second,
	})
	return l
}

// swapRequest: half the clients POST, half GET, with bodies of many sizes.
func swapRequest(client, n int) (method, path, body string) {
	path = "/x?n=" + strconv.Itoa(n)
	if client%4 < 2 {
		return http.MethodPost, path, strings.Repeat("p", 1+n%4096)
	}
	return http.MethodGet, path, strings.Repeat("b", n%300)
}

// setExpect: requests started from now on must come from v ("" = any known).
func (l *swapLoad) setExpect(v string) {
	l.mu.Lock()
	l.expect, l.expectSince = v, time.Now()
	l.mu.Unlock()
}

// judge fails an answer from no known version and counts, without failing
// it, one from an old version after the roll to the expected one completed.
func (l *swapLoad) judge(_ *http.Response, body []byte, started time.Time) string {
	if !l.known[string(body)] {
		return "unknown answer"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.versions[strings.TrimSpace(string(body))]++
	if l.expect != "" && started.After(l.expectSince) && string(body) != l.expect {
		l.stale++
		l.lastStale = fmt.Sprintf("%q started %v after the roll to %q completed", body, started.Sub(l.expectSince), l.expect)
	}
	return ""
}

// check stops the load and fails t on any failed, unknown or stale answer.
func (l *swapLoad) check(t *testing.T) {
	t.Helper()
	res := l.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("load: %v stale=%d versions=%v", res, l.stale, l.versions)
	if res.Failed() != 0 {
		t.Errorf("failed requests: %v", res)
	}
	if l.stale != 0 {
		t.Errorf("%d answers from an old version after its roll completed; last: %s", l.stale, l.lastStale)
	}
	if res.OK == 0 {
		t.Error("no request succeeded")
	}
}
