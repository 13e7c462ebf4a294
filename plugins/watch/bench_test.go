package watch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDetect measures, with the default Options, the time from a
// completed write (rename into place) until its Change is received: the
// watcher's share of swap latency.
func BenchmarkDetect(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	data := make([]byte, 2<<20) // a ~2 MB Go guest
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	w, err := New(path, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	<-w.Changes() // the initial content
	b.ResetTimer()
	for i := range b.N {
		copy(data, fmt.Sprintf("version %d", i))
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		select {
		case <-w.Changes():
		case <-time.After(10 * time.Second):
			b.Fatal("change not detected")
		}
	}
}
