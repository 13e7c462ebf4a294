package host_test

// Regression tests for next failures found while testing (fixed in e6b0bb0).

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestSlowNextTimesOut: RequestTimeout covers next. A next that gives up
// when the request's context ends, having written nothing, leaves the
// client without an answer: the host must answer 504, not an empty 200.
func TestSlowNextTimesOut(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
			t.Error("next's context did not end at the request timeout")
		}
	})
	for _, guest := range []string{"next", "response", "nextonly"} { // handle_response: no-op; logs; none
		t.Run(guest, func(t *testing.T) {
			p := newPlugin(t, wat(t, guest), host.Config{Next: next, RequestTimeout: 200 * time.Millisecond})
			rec, aborted := serveOrAbort(t, p, get("/"))
			if aborted || rec.Code != http.StatusGatewayTimeout {
				t.Fatalf("got %d %q (aborted %v), want 504", rec.Code, rec.Body.String(), aborted)
			}
			if s := p.Stats(); s.Timeouts != 1 {
				t.Errorf("Stats.Timeouts = %d, want 1", s.Timeouts)
			}
		})
	}
}

// TestNextPanics: when next fails (panics), handle_response gets
// is_error=1, and the client never takes the failure for a success: a 502
// when nothing was sent, an aborted response when next's headers were
// already out (as net/http itself would do with the panic).
func TestNextPanics(t *testing.T) {
	for _, tc := range []struct {
		mode, when string
	}{{"u", "before-write"}, {"u", "after-write"}, {"b", "before-write"}} {
		t.Run(tc.mode+"/"+tc.when, func(t *testing.T) {
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.when == "after-write" {
					w.WriteHeader(http.StatusNonAuthoritativeInfo)
					io.WriteString(w, "partial")
				}
				panic("next blew up")
			})
			logger, logs := captureLogger(slog.LevelInfo)
			p := newPlugin(t, wat(t, "iserror"), host.Config{Next: next, Logger: logger})
			rec, aborted := serveOrAbort(t, p, get("/", "x-mode", tc.mode))
			if got := logs.find("is_error="); len(got) != 1 || got[0].Msg != "is_error=1" {
				t.Errorf("handle_response saw %v, want is_error=1", got)
			}
			switch {
			case tc.when == "after-write":
				if !aborted {
					t.Errorf("next failed mid-response but the client got a whole-looking %d %q", rec.Code, rec.Body.String())
				}
			case aborted || rec.Code != http.StatusBadGateway:
				t.Errorf("got %d %q (aborted %v), want 502", rec.Code, rec.Body.String(), aborted)
			}
			checkPoolIdle(t, p) // an abort must not leak the instance
		})
	}
}

// TestPartialBodyToNext: a guest that reads part of the body without
// buffer_request leaves the rest to next, whose ContentLength must match
// what is left (a stale length makes the proxy refuse the request: 502).
func TestPartialBodyToNext(t *testing.T) {
	echo := lengthEcho()
	for _, name := range []string{"next", "upstream"} {
		t.Run(name, func(t *testing.T) {
			cfg := host.Config{Next: echo}
			if name == "upstream" {
				cfg = host.Config{Upstream: upstream(t, echo)}
			}
			p := newPlugin(t, wat(t, "partial"), cfg)
			srv, _ := listen(t, "127.0.0.1:0", p)
			resp, err := http.Post(srv.URL, "application/octet-stream", strings.NewReader("0123456789abcdefghij"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(b) != "abcdefghij" {
				t.Fatalf("next answered %d %q, want the last 10 bytes", resp.StatusCode, b)
			}
			if cl := resp.Header.Get("X-Got-Length"); cl != "10" && cl != "-1" {
				t.Errorf("next saw ContentLength %s for the 10 bytes left", cl)
			}
		})
	}
}
