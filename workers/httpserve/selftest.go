package httpserve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
)

type selfTestKey struct{}

// IsSelfTest reports whether ctx belongs to the self-test request a plugin
// is sent before it takes traffic (SelfTest). A plugin's next handler
// should answer it locally (e.g. 204) instead of calling the upstream: the
// self-test checks the plugin, not the upstream, which may be down or slow.
func IsSelfTest(ctx context.Context) bool { return ctx.Value(selfTestKey{}) != nil }

// FaultCounter is implemented by plugins that count the requests they
// failed (a guest trap or timeout). The self-test then fails only on a new
// fault, so a plugin that answers 500 on purpose (say, to a request missing
// a header it needs) still becomes ready. Without it, 500 and 504 fail.
type FaultCounter interface{ Faults() uint64 }

// SelfTest sends one in-process GET for path ("" is "/") to p; a panic or
// a fault (see FaultCounter) fails it.
func SelfTest(ctx context.Context, p Plugin, path string) (err error) {
	if path == "" {
		path = "/"
	}
	ctx = context.WithValue(ctx, selfTestKey{}, true)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://self-test"+path, nil)
	if err != nil {
		return fmt.Errorf("self-test request %q: %w", path, err)
	}
	req.Body = http.NoBody // as on a server request, never nil
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("User-Agent", "wasmcluster-self-test")
	rec := &recorder{header: make(http.Header)}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("self-test GET %s: handler panicked: %v", path, r)
		}
	}()
	fc, counts := p.(FaultCounter)
	var before uint64
	if counts {
		before = fc.Faults()
	}
	p.ServeHTTP(rec, req)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	failed := rec.code == http.StatusInternalServerError || rec.code == http.StatusGatewayTimeout
	if counts {
		failed = fc.Faults() > before
	}
	if failed {
		body := rec.body.Bytes()
		if len(body) > 200 {
			body = body[:200]
		}
		return fmt.Errorf("self-test GET %s: status %d: %s", path, rec.code, bytes.TrimSpace(body))
	}
	return nil
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.body.Len() < 4096 {
		r.body.Write(b[:min(len(b), 4096)])
	}
	return len(b), nil
}
func (r *recorder) Flush() {}
