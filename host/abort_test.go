package host_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestAbort: env.abort, which AssemblyScript imports, fails only the
// request that calls it, logs the guest's message, file, line and column,
// and the next request is served by a fresh instance.
func TestAbort(t *testing.T) {
	log, sink := captureLogger(slog.LevelInfo)
	p := newPlugin(t, wat(t, "abort"), host.Config{Name: "as", Logger: log})

	wantResponse(t, serve(t, p, get("/")), http.StatusOK, "ok")
	wantGuestFailure(t, serve(t, p, get("/abort")))
	recs := sink.find("boom é")
	if len(recs) == 0 {
		t.Fatalf("no log record carries the abort message; got %v", sink.all())
	}
	r := recs[0]
	if r.Level != slog.LevelError || r.Msg != "plugin failed" || !r.has("request_id=") || !r.has("file=assembly/index.ts line=42 column=7") {
		t.Errorf("abort record %v: want the ERROR failure record with its request id, file assembly/index.ts, line 42, column 7", r)
	}
	wantResponse(t, serve(t, p, get("/")), http.StatusOK, "ok")
	if s := p.Stats(); s.Traps != 1 {
		t.Errorf("traps = %d, want 1", s.Traps)
	}
}

// TestAbortBadPointers: a guest whose abort strings point outside memory,
// or whose length runs past it, or which passes null, still gets a 500 for
// that request only; the host reads nothing out of bounds.
func TestAbortBadPointers(t *testing.T) {
	log, sink := captureLogger(slog.LevelInfo)
	p := newPlugin(t, wat(t, "abort"), host.Config{Name: "as", Logger: log})
	for _, path := range []string{"/bad", "/null"} {
		wantGuestFailure(t, serve(t, p, get(path)))
		wantResponse(t, serve(t, p, get("/")), http.StatusOK, "ok")
	}
	if len(sink.find("bad string at 304")) == 0 || len(sink.find("bad string pointer 4294967280")) == 0 {
		t.Errorf("bad pointers not described in the log: %v", sink.all())
	}
}
