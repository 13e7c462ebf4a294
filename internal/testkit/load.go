package testkit

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The failure classes a Load counts transport errors under. Other
// failures count as "status NNN", under a Check label, or under the
// error's text.
const (
	Refused    = "refused"     // connect: nobody listening
	Reset      = "reset"       // connection reset by peer
	EOF        = "eof"         // connection closed before the whole answer
	BrokenPipe = "broken pipe" // the request could not be written
)

// LoadOptions shape a Load. The zero value is one keep-alive client
// POSTing "ping".
type LoadOptions struct {
	// Clients is the number of clients, each sending one request after
	// another. Defaults to 1.
	Clients int

	// NoKeepAlive reports whether client i opens a new connection for
	// every request. Defaults to nil: every client reuses its connection.
	NoKeepAlive func(client int) bool

	// Request returns the method, the path and query (appended to the
	// load's URL) and the body of client i's n-th request. Defaults to
	// POST "ping" to the URL itself.
	Request func(client, n int) (method, path, body string)

	// Check judges an answer with a 2xx status to a request sent at
	// started: "" is a good answer, anything else a label the answer is
	// counted as failed under. Calls are serialized. Defaults to nil:
	// every 2xx answer is good.
	Check func(resp *http.Response, body []byte, started time.Time) string

	// Timeout bounds one request. Defaults to 30 s.
	Timeout time.Duration

	// Pause is how long each client waits after an answer before its next
	// request: for a steady trickle rather than a flood. Defaults to 0.
	Pause time.Duration

	// TLS is the client TLS configuration for an https URL (CA.ClientConfig).
	// Defaults to nil: Go's defaults.
	TLS *tls.Config

	// HTTP2 makes the clients speak HTTP/2 over TLS (ALPN h2); without it
	// an https load speaks HTTP/1.1. Defaults to false.
	HTTP2 bool
}

// Load is strict HTTP load: requests that net/http cannot retry and
// failures that are all counted. When a reused connection turns out
// closed, an http.Client silently sends the request again if it can
// replay it (a GET without a body or with GetBody; any request with
// GetBody that was not written yet), which hides exactly the dropped
// requests a zero-failure test is about. Every request of a Load is a
// StrictRequest, so each one is sent once, and its EOF, reset or refusal
// is counted.
type Load struct {
	url  string
	opts LoadOptions
	stop atomic.Bool
	wg   sync.WaitGroup

	mu  sync.Mutex
	res LoadResult
}

// LoadResult is what a Load counted.
type LoadResult struct {
	OK       int            // answers with a 2xx status that Check found good
	Failures map[string]int // failed requests by class (Refused, EOF, "status 503", a Check label, ...)
}

// Failed is the number of failed requests.
func (r LoadResult) Failed() int {
	n := 0
	for _, c := range r.Failures {
		n += c
	}
	return n
}

func (r LoadResult) String() string {
	return fmt.Sprintf("ok=%d failed=%d %v", r.OK, r.Failed(), r.Failures)
}

// StartLoad starts opts.Clients clients sending requests to url until Stop.
func StartLoad(url string, opts LoadOptions) *Load {
	if opts.Clients <= 0 {
		opts.Clients = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	l := &Load{url: url, opts: opts, res: LoadResult{Failures: map[string]int{}}}
	for i := range opts.Clients {
		l.wg.Add(1)
		go l.client(i)
	}
	return l
}

func (l *Load) client(i int) {
	defer l.wg.Done()
	tr := &http.Transport{MaxIdleConnsPerHost: 1, TLSClientConfig: l.opts.TLS.Clone(), ForceAttemptHTTP2: l.opts.HTTP2}
	if l.opts.NoKeepAlive != nil {
		tr.DisableKeepAlives = l.opts.NoKeepAlive(i)
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: l.opts.Timeout}
	for n := 0; !l.stop.Load(); n++ {
		l.one(c, i, n)
		time.Sleep(l.opts.Pause)
	}
}

func (l *Load) one(c *http.Client, client, n int) {
	method, path, body := http.MethodPost, "", "ping"
	if l.opts.Request != nil {
		method, path, body = l.opts.Request(client, n)
	}
	req, err := StrictRequest(method, l.url+path, body)
	if err != nil {
		panic(fmt.Sprintf("testkit: load request: %v", err)) // a bad URL is a bug in the test
	}
	started := time.Now()
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
		l.res.Failures[classify(err)]++
	case resp.StatusCode/100 != 2:
		l.res.Failures["status "+strconv.Itoa(resp.StatusCode)]++
	default:
		if l.opts.Check != nil {
			if label := l.opts.Check(resp, b, started); label != "" {
				l.res.Failures[label]++
				return
			}
		}
		l.res.OK++
	}
}

// classify names a transport error's class, or returns its text without
// the request's URL (which differs per request).
func classify(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ECONNRESET):
		return Reset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return EOF
	case errors.Is(err, syscall.EPIPE):
		return BrokenPipe
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// StrictRequest is http.NewRequest for a request net/http never sends
// twice: its body, even an empty one, is not nil and has no GetBody, so the
// request is not replayable whatever its method.
func StrictRequest(method, url, body string) (*http.Request, error) {
	// NopCloser hides the reader's type: http.NewRequest sets no GetBody.
	return http.NewRequest(method, url, io.NopCloser(strings.NewReader(body)))
}

// Result returns the totals so far.
func (l *Load) Result() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LoadResult{OK: l.res.OK, Failures: maps.Clone(l.res.Failures)}
}

// WaitOK waits until at least n answers were good, failing the test with
// the totals if that takes longer than timeout (a bound on a hung load, not
// a speed assertion). A test that needs the load to have run uses it
// rather than a fixed sleep, which a loaded machine can fill with nothing.
func (l *Load) WaitOK(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	Eventually(tb, timeout, func() error {
		if r := l.Result(); r.OK < n {
			return fmt.Errorf("%d of %d good answers: %v", r.OK, n, r)
		}
		return nil
	})
}

// Stop stops the clients, waits for their requests in flight and returns
// the totals. It may be called more than once.
func (l *Load) Stop() LoadResult {
	l.stop.Store(true)
	l.wg.Wait()
	return l.Result()
}
