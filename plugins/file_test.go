package plugins_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/watch"
)

// Load and Reload read under the Rules: a FIFO is refused without
// blocking, an oversized file without reading it, a group-writable one
// unless AllowInsecure, which logs it.
func TestManagerReadRules(t *testing.T) {
	f := newFixture(t, nil)
	if err := syscall.Mkfifo(f.path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Load(t.Context()); !errors.Is(err, watch.ErrNotRegular) {
		t.Fatalf("Load(FIFO) = %v, want ErrNotRegular", err)
	}

	hello := testkit.HelloWAT(t, "rules")
	small := newFixture(t, hello, func(o *plugins.Options) { o.Rules.MaxSize = int64(len(hello)) - 1 })
	if _, err := small.m.Load(t.Context()); !errors.Is(err, watch.ErrTooLarge) {
		t.Fatalf("Load over MaxSize = %v, want ErrTooLarge", err)
	}

	open := newFixture(t, hello)
	if err := os.Chmod(filepath.Dir(open.path), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := open.m.Load(t.Context()); !errors.Is(err, watch.ErrInsecure) {
		t.Fatalf("Load from a 0777 directory = %v, want ErrInsecure", err)
	}
	var logs bytes.Buffer
	allowed := newFixture(t, hello, func(o *plugins.Options) {
		o.Rules.AllowInsecure = true
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err := os.Chmod(allowed.path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := allowed.m.Load(t.Context()); err != nil {
		t.Fatalf("Load with AllowInsecure: %v", err)
	}
	if !strings.Contains(logs.String(), "allow_insecure_path") {
		t.Errorf("no warning for the insecure file:\n%s", &logs)
	}
}

func TestNewNeedsStoreDir(t *testing.T) {
	if _, err := plugins.New(filepath.Join(t.TempDir(), "p.wasm"), plugins.Options{}); err == nil {
		t.Error("New without StoreDir succeeded")
	}
}
