package main

// The load client of the hot-swap tests: it never retries, so every
// dropped request counts.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// swapLoad is strict load: bodies without GetBody (no silent retries),
// keep-alive and not, GET and POST; every failure counted. After expect(v),
// a request started later must be answered by version v.
type swapLoad struct {
	stop  atomic.Bool
	wg    sync.WaitGroup
	known map[string]bool

	mu          sync.Mutex
	expect      string
	expectSince time.Time
	ok, non2xx  int
	unknown     int
	stale       int
	errs        map[string]int
	versions    map[string]int
	lastStale   string
}

func startSwapLoad(url string, clients int, known ...string) *swapLoad {
	l := &swapLoad{known: map[string]bool{}, errs: map[string]int{}, versions: map[string]int{}}
	for _, k := range known {
		l.known[k] = true
	}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{DisableKeepAlives: i%2 == 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			post := i%4 < 2
			for n := 0; !l.stop.Load(); n++ {
				l.one(c, url, post, n)
			}
		}()
	}
	return l
}

// setExpect: requests started from now on must come from v ("" = any known).
func (l *swapLoad) setExpect(v string) {
	l.mu.Lock()
	l.expect, l.expectSince = v, time.Now()
	l.mu.Unlock()
}

func (l *swapLoad) one(c *http.Client, url string, post bool, n int) {
	method, body := http.MethodGet, strings.Repeat("b", n%300)
	if post {
		method, body = http.MethodPost, strings.Repeat("p", 1+n%4096)
	}
	req, err := http.NewRequest(method, url+"/x?n="+strconv.Itoa(n), io.NopCloser(strings.NewReader(body)))
	if err != nil {
		panic(err)
	}
	start := time.Now()
	resp, err := c.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.errs[classifyErr(err)]++
	case resp.StatusCode/100 != 2:
		l.non2xx++
	case !l.known[string(b)]:
		l.unknown++
	default:
		l.ok++
		l.versions[strings.TrimSpace(string(b))]++
		if l.expect != "" && start.After(l.expectSince) && string(b) != l.expect {
			l.stale++
			l.lastStale = fmt.Sprintf("%q started %v after the roll to %q completed", b, start.Sub(l.expectSince), l.expect)
		}
	}
}

func classifyErr(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return err.Error()
}

func (l *swapLoad) finish() {
	l.stop.Store(true)
	l.wg.Wait()
}

func (l *swapLoad) failed() int {
	n := l.non2xx + l.unknown
	for _, c := range l.errs {
		n += c
	}
	return n
}

func (l *swapLoad) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("ok=%d non2xx=%d unknown=%d stale=%d errs=%v versions=%v", l.ok, l.non2xx, l.unknown, l.stale, l.errs, l.versions)
}

// check fails t on any failed, unknown or stale answer.
func (l *swapLoad) check(t *testing.T) {
	t.Helper()
	t.Logf("load: %v", l)
	if l.failed() != 0 {
		t.Errorf("failed requests: %v", l)
	}
	if l.stale != 0 {
		t.Errorf("%d answers from an old version after its roll completed; last: %s", l.stale, l.lastStale)
	}
	if l.ok == 0 {
		t.Error("no request succeeded")
	}
}
