package preflight

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// The self-test is the one definition of "this plugin answers" that the
// primary's check and every worker apply: one GET of the configured path
// through the plugin, and an answer of 500 or more (a guest trap or
// timeout included: the host answers those 500 and 504) or a panic
// refuses it. Without a path there is no request at all: a synthetic
// request may have side effects (shared state, outbound calls), so it is
// the operator's to opt into.

type selfTestKey struct{}

// IsSelfTest reports whether ctx belongs to a self-test request. A
// plugin's next handler answers it locally (204) instead of calling the
// upstream: the self-test checks the plugin, not an upstream that may be
// down or slow.
func IsSelfTest(ctx context.Context) bool { return ctx.Value(selfTestKey{}) != nil }

// SelfTest sends GET path through h and refuses (with an error naming the
// path and the answer) a status of 500 or more or a panic.
func SelfTest(ctx context.Context, h http.Handler, path string) error {
	return selfTest(ctx, h, path, newRequestID())
}

// selfTest is SelfTest with the request's X-Request-Id, which the host
// logs with a guest failure (faultLog finds it by that id).
func selfTest(ctx context.Context, h http.Handler, path, id string) (err error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req := httptest.NewRequestWithContext(context.WithValue(ctx, selfTestKey{}, true), http.MethodGet, path, nil)
	req.Host = "localhost"
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("User-Agent", "wasmcluster-self-test")
	req.Header.Set("X-Request-Id", id)
	rec := httptest.NewRecorder()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("GET %s: handler panicked: %v", path, r)
		}
	}()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		return fmt.Errorf("GET %s answered %d %s: %s", path, rec.Code, http.StatusText(rec.Code), snippet(rec.Body.String()))
	}
	return nil
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "self-test-" + hex.EncodeToString(b[:])
}

// snippet shortens a response body for an error message.
func snippet(body string) string {
	body = strings.TrimSpace(body)
	const limit = 200
	if len(body) > limit {
		body = body[:limit] + "…"
	}
	if body == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", body)
}

// faultLog passes a plugin's log records on and keeps the error the host
// logged for the request whose id is id: the client (and so the
// self-test) only sees a 500 that hides guest details, while a refusal
// should name the trap.
type faultLog struct {
	inner slog.Handler
	id    string
	fault *atomic.Pointer[string]
}

func newFaultLog(inner slog.Handler, id string) faultLog {
	return faultLog{inner: inner, id: id, fault: new(atomic.Pointer[string])}
}

// Fault is the error logged for the request, or "".
func (h faultLog) Fault() string {
	if s := h.fault.Load(); s != nil {
		return *s
	}
	return ""
}

func (h faultLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

func (h faultLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var id, msg string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "request_id":
				id = a.Value.String()
			case "err":
				msg = a.Value.String()
			}
			return true
		})
		if id == h.id {
			if msg == "" {
				msg = r.Message
			}
			msg, _, _ = strings.Cut(msg, "\n") // not the wasm stack trace
			h.fault.Store(&msg)
		}
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h faultLog) WithAttrs(as []slog.Attr) slog.Handler {
	h.inner = h.inner.WithAttrs(as)
	return h
}

func (h faultLog) WithGroup(name string) slog.Handler {
	h.inner = h.inner.WithGroup(name)
	return h
}
