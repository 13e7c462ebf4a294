package watch

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// TestLogFileBesideThePlugin: the server logs at debug level to a file in
// the plugin's own directory. A write to that log is an event in the
// watched directory; logging it would write to the log again, without end.
// The watcher stays quiet about it and still logs the plugin's own events.
func TestLogFileBesideThePlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	write(t, path, v(1))
	logPath := filepath.Join(dir, "server.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := start(t, path, store.Hash(v(1)), func(o *Options) { o.Logger = log })
	h.waitPast(func(s Stats) uint64 { return s.Unchanged }, 0)

	// One line from elsewhere in the server: its write is an event, and
	// the look it causes finds the plugin unchanged.
	h.settle(func(s Stats) uint64 { return s.Checks }, func() { log.Info("request served") })
	events := h.w.Stats().Events
	h.quiet()
	if st := h.w.Stats(); st.Events != events {
		t.Fatalf("%d more directory events after the watcher looked: it keeps logging its own log's writes; stats %+v",
			st.Events-events, st)
	}

	write(t, path, v(2))
	h.expect(v(2))
	h.quiet()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Contains(text, "server.log") {
		t.Errorf("the watcher logged its own log file's events:\n%s", text)
	}
	if !strings.Contains(text, `msg="plugin directory event"`) || !strings.Contains(text, `\"`+path+`\"`) {
		t.Errorf("the plugin's own write was not logged at debug level:\n%s", text)
	}
}
