package preflight_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func opts(path string) preflight.Options {
	return preflight.Options{
		Host:    host.Config{Name: "plugin.wasm", Logger: quiet()},
		Path:    path,
		Timeout: 5 * time.Second,
	}
}

func check(t *testing.T, wasm []byte, o preflight.Options) error {
	t.Helper()
	// The outer bound only guards the test; Options.Timeout must fire first.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return preflight.Check(ctx, wasm, o)
}

func TestAccepts(t *testing.T) {
	for _, tc := range []struct{ guest, path string }{
		{"good", ""},
		{"good", "/healthz"},
		{"next", "/healthz"}, // next is the local stub (204), never an upstream
		{"status503", ""},    // without a self-test path its answers are not looked at
	} {
		t.Run(tc.guest+tc.path, func(t *testing.T) {
			if err := check(t, testwasm.WAT(t, tc.guest), opts(tc.path)); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	good := testwasm.WAT(t, "good")
	cases := []struct {
		name  string
		wasm  []byte
		path  string
		stage string
		want  []string // substrings of the error text shown in status
	}{
		{"garbage", []byte("#!/bin/sh\necho this is not wasm\n"), "", preflight.StageLoad, []string{"not a WebAssembly module"}},
		{"empty", nil, "", preflight.StageLoad, []string{"not a WebAssembly module"}},
		{"truncated", good[:len(good)/2], "", preflight.StageLoad, []string{"compile"}},
		{"missing export", testwasm.WAT(t, "missing_export"), "", preflight.StageLoad, []string{`missing export "handle_request"`, "i64"}},
		{"wrong signature", testwasm.WAT(t, "wrong_signature"), "", preflight.StageLoad, []string{`"handle_request"`, "i32", "i64"}},
		{"trap in _initialize", testwasm.WAT(t, "init_trap"), "", preflight.StageLoad, []string{"unreachable"}},
		{"exits after _start", testwasm.WAT(t, "start_exit"), "", preflight.StageLoad, []string{"-buildmode=c-shared"}},
		{"self-test 503", testwasm.WAT(t, "status503"), "/healthz", preflight.StageSelfTest, []string{"GET /healthz answered 503"}},
		{"self-test trap", testwasm.WAT(t, "request_trap"), "healthz", preflight.StageSelfTest, []string{"GET /healthz answered 500", "unreachable"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := check(t, tc.wasm, opts(tc.path))
			assertRefused(t, err, tc.stage, false, tc.want...)
			if tc.name == "exits after _start" && !errors.Is(err, host.ErrExitsAfterStart) {
				t.Errorf("error does not wrap host.ErrExitsAfterStart: %v", err)
			}
		})
	}
}

func assertRefused(t *testing.T, err error, stage string, timedOut bool, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted, want refusal")
	}
	var pe *preflight.Error
	if !errors.As(err, &pe) || !preflight.IsRefusal(err) {
		t.Fatalf("error %T %v is not a *preflight.Error", err, err)
	}
	if pe.Stage != stage || pe.TimedOut != timedOut {
		t.Errorf("stage %q timedOut %v, want %q %v (%v)", pe.Stage, pe.TimedOut, stage, timedOut, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	t.Logf("refused: %v", err)
}

// TestHangInInitialize: a guest whose _initialize loops forever is refused
// once Options.Timeout passes, instead of hanging the deploy.
func TestHangInInitialize(t *testing.T) {
	o := opts("")
	o.Timeout = 300 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- preflight.Check(context.Background(), testwasm.WAT(t, "init_hang"), o) }()
	select {
	case err := <-done:
		assertRefused(t, err, preflight.StageLoad, true, "timed out", "_initialize")
	case <-time.After(30 * time.Second):
		t.Fatal("preflight still running 30 s after a 300 ms timeout")
	}
}

// TestCanceled: the caller giving up is not a refusal of the plugin.
func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	o := opts("")
	o.Timeout = 30 * time.Second
	err := preflight.Check(ctx, testwasm.WAT(t, "init_hang"), o)
	if err == nil || preflight.IsRefusal(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a non-refusal wrapping context.Canceled", err)
	}
}

// TestWarmsCompilationCache: preflight with the workers' CacheDir leaves
// compiled code there for them.
func TestWarmsCompilationCache(t *testing.T) {
	o := opts("/")
	o.Host.CacheDir = filepath.Join(t.TempDir(), "cache")
	if err := check(t, testwasm.WAT(t, "good"), o); err != nil {
		t.Fatal(err)
	}
	files := 0
	_ = filepath.WalkDir(o.Host.CacheDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatalf("compilation cache %s is empty after preflight", o.Host.CacheDir)
	}
	// A second preflight reads the cache.
	if err := check(t, testwasm.WAT(t, "good"), o); err != nil {
		t.Fatal(err)
	}
}

// TestGoGuest: a Go reactor is accepted; the same source built as a command
// (without -buildmode=c-shared) is refused with a hint on how to rebuild.
func TestGoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests; skipped in -short")
	}
	if raceEnabled {
		t.Skip("compiling a Go guest under the race detector takes minutes")
	}
	// Compiling a Go guest can take tens of seconds on a loaded machine: the
	// bound here is the package default, not the short one of the WAT tests.
	o := opts("/")
	o.Timeout = preflight.DefaultTimeout
	if err := check(t, testwasm.GoGuest(t, true), o); err != nil {
		t.Fatalf("Go reactor refused: %v", err)
	}
	err := check(t, testwasm.GoGuest(t, false), o)
	assertRefused(t, err, preflight.StageLoad, false, "-buildmode=c-shared")
	if !errors.Is(err, host.ErrExitsAfterStart) {
		t.Errorf("error does not wrap host.ErrExitsAfterStart: %v", err)
	}
}
