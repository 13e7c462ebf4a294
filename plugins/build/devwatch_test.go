package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestDevRunRebuildsDuringEndlessWrites: a source rewritten far faster than
// the debounce (a generator in a loop) never lets the tree go quiet; the
// rebuild still comes, bounded by 10 debounces, while the writes go on.
func TestDevRunRebuildsDuringEndlessWrites(t *testing.T) {
	testkit.Require(t, "wat2wasm")
	mod := `(module (memory (export "memory") 1) (func (export "handle_request") (result i64) (i64.const %d)))`
	dir := write(t, t.TempDir(), map[string]string{"p.wat": fmt.Sprintf(mod, 0)})
	d, err := NewDev(dir, DevOptions{Build: Options{CacheDir: t.TempDir()}, Output: filepath.Join(t.TempDir(), "p.wasm"),
		Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a write every 2 ms: never 50 ms of quiet
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			_ = os.WriteFile(filepath.Join(dir, "p.wat"), fmt.Appendf(nil, mod, i), 0o644)
		}
	}()
	testkit.WaitFor(t, time.Minute, "a rebuild while the writes go on", func() bool { return d.Status().Builds > 0 })
	close(stop)
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
