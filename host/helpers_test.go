package host_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// wat returns the module of testdata/<name>.wat, compiled once per test
// binary (no .wasm is committed).
func wat(tb testing.TB, name string) []byte {
	tb.Helper()
	return testkit.WATFile(tb, filepath.Join("testdata", name+".wat"))
}

// quiet is a logger that drops everything; tests that look at logs use
// captureLogger.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newPlugin loads wasm with cfg (quiet logs unless cfg.Logger is set) and
// closes it when the test ends.
func newPlugin(tb testing.TB, wasm []byte, cfg host.Config) *host.Plugin {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := host.New(ctx, wasm, cfg)
	if err != nil {
		tb.Fatalf("host.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p
}

// serve runs one request through h on a recorder, turning a panic (which
// would kill a real server's connection) into a test failure.
func serve(tb testing.TB, h http.Handler, r *http.Request) (rec *httptest.ResponseRecorder) {
	tb.Helper()
	rec = httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != nil {
				tb.Fatalf("ServeHTTP panicked: %v", v)
			}
		}()
		h.ServeHTTP(rec, r)
	}()
	return rec
}

// serveOrAbort is serve for requests that fail after the response was
// already sent: the host may then abort the response with
// panic(http.ErrAbortHandler), net/http's way to cut the connection so a
// client cannot take a partial response for a whole one. Any other panic
// fails the test.
func serveOrAbort(tb testing.TB, h http.Handler, r *http.Request) (rec *httptest.ResponseRecorder, aborted bool) {
	tb.Helper()
	rec = httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					tb.Fatalf("ServeHTTP panicked: %v", v)
				}
				aborted = true
			}
		}()
		h.ServeHTTP(rec, r)
	}()
	return rec, aborted
}

// get builds a GET for path with alternating header name/value pairs.
func get(path string, headers ...string) *http.Request {
	return newReq(http.MethodGet, path, nil, headers...)
}

func newReq(method, path string, body []byte, headers ...string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// wantResponse checks status and body of a recorded response.
func wantResponse(tb testing.TB, rec *httptest.ResponseRecorder, status int, body string) {
	tb.Helper()
	if rec.Code != status || rec.Body.String() != body {
		tb.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), status, body)
	}
}

// wantGuestFailure checks a 500 with the generic body: it names the request
// id and leaks nothing of wazero's error or stack trace.
func wantGuestFailure(tb testing.TB, rec *httptest.ResponseRecorder) {
	tb.Helper()
	if rec.Code != http.StatusInternalServerError {
		tb.Fatalf("status %d (body %q), want 500", rec.Code, rec.Body.String())
	}
	checkGenericBody(tb, rec.Body.String(), rec.Header().Get("X-Request-Id"))
}

func checkGenericBody(tb testing.TB, body, id string) {
	tb.Helper()
	if id == "" || !strings.Contains(body, "plugin failed (request id "+id+")") {
		tb.Errorf("500 body %q is not the generic message naming request id %q", body, id)
	}
	for _, leak := range []string{"wasm", "stack", "unreachable", "0x", ".$", "panic", "goroutine"} {
		if strings.Contains(body, leak) {
			tb.Errorf("500 body %q leaks %q", body, leak)
		}
	}
}

// logRecord is one captured log record, with the attributes of the logger
// (With) and of the record flattened to key=value strings.
type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs []string
}

func (r logRecord) String() string {
	return fmt.Sprintf("%s %q %v", r.Level, r.Msg, r.Attrs)
}

// has reports whether the message or any attribute value contains s.
func (r logRecord) has(s string) bool {
	if strings.Contains(r.Msg, s) {
		return true
	}
	for _, a := range r.Attrs {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

type logSink struct {
	mu      sync.Mutex
	records []logRecord
}

func (s *logSink) all() []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logRecord(nil), s.records...)
}

// find returns the records containing s.
func (s *logSink) find(text string) []logRecord {
	var out []logRecord
	for _, r := range s.all() {
		if r.has(text) {
			out = append(out, r)
		}
	}
	return out
}

type captureHandler struct {
	sink  *logSink
	level slog.Level
	attrs []string
}

// captureLogger returns a logger enabled from level whose records land in
// the returned sink.
func captureLogger(level slog.Level) (*slog.Logger, *logSink) {
	sink := &logSink{}
	return slog.New(&captureHandler{sink: sink, level: level}), sink
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: append([]string(nil), h.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = append(rec.Attrs, a.Key+"="+a.Value.String())
		return true
	})
	h.sink.mu.Lock()
	h.sink.records = append(h.sink.records, rec)
	h.sink.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append([]string(nil), h.attrs...)
	for _, a := range as {
		h2.attrs = append(h2.attrs, a.Key+"="+a.Value.String())
	}
	return &h2
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// inUse is the number of instances currently serving a request.
func inUse(s host.Stats) int { return s.Live - s.Idle }

// checkPoolIdle checks that no instance is leaked: nothing in use, and never
// more instances than the bound.
func checkPoolIdle(tb testing.TB, p *host.Plugin) {
	tb.Helper()
	// Over a real connection the client can read the whole answer before
	// the handler has returned its instance: give it a moment.
	s := p.Stats()
	for deadline := time.Now().Add(5 * time.Second); inUse(s) != 0 && time.Now().Before(deadline); s = p.Stats() {
		time.Sleep(5 * time.Millisecond)
	}
	if inUse(s) != 0 || s.Live > s.PoolSize || s.Idle > s.PoolSize {
		tb.Errorf("pool not idle and bounded after requests: %+v", s)
	}
}
