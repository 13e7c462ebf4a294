package host_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// loadErr runs New and Validate on wasm and returns New's error; both must
// fail, neither may panic.
func loadErr(t *testing.T, wasm []byte, cfg host.Config) error {
	t.Helper()
	cfg.Logger = quiet()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err, verr error
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("New/Validate panicked: %v", v)
			}
		}()
		var p *host.Plugin
		p, err = host.New(ctx, wasm, cfg)
		if p != nil {
			p.Close(ctx)
		}
		verr = host.Validate(ctx, wasm, cfg)
	}()
	if err == nil {
		t.Fatal("New accepted the module")
	}
	if verr == nil {
		t.Fatal("Validate accepted the module")
	}
	return err
}

// TestLoadErrors: bad modules are refused with a message that names the
// problem (the export and the signature it should have).
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		guest string
		want  []string // substrings of the error
	}{
		{"missing_handle_request", []string{`"handle_request"`, "func() -> (i64)"}},
		{"wrong_handle_request", []string{`"handle_request"`, "func() -> (i64)", "i32"}},
		{"wrong_handle_response", []string{`"handle_response"`, "i32, i32"}},
		{"missing_memory", []string{`"memory"`}},
		{"handle_request_global", []string{`"handle_request"`, "i64"}},
		{"unknown_host_import", []string{"nope"}},
		{"wrong_import_sig", []string{"get_uri"}},
		{"foreign_import", []string{"import env.f is not provided by wasmcluster", "http_handler.*", "env.abort", "wasi_snapshot_preview1", "remove the import"}},
		{"unknown_wasi_import", []string{"import wasi_snapshot_preview1.nope is not provided"}},
		{"imported_memory", []string{"env.memory", "--importMemory"}},
		{"abort_wrong_sig", []string{"env.abort", "func(i32, i32, i32, i32) -> ()"}},
		{"init_abort", []string{"_initialize", `"init"`, ":3:1"}},
		{"start_trap", []string{"_start"}},
		{"init_trap", []string{"_initialize"}},
		{"memory_too_big", nil},
		{"init_get_uri", []string{"get_uri", "_initialize"}},
	} {
		t.Run(tc.guest, func(t *testing.T) {
			err := loadErr(t, wat(t, "load/"+tc.guest), host.Config{Name: "bad-plugin"})
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "wasm stack trace") {
				t.Errorf("error carries a wasm stack trace: %q", err)
			}
			if errors.Is(err, host.ErrExitsAfterStart) {
				t.Errorf("error wrongly wraps ErrExitsAfterStart: %v", err)
			}
		})
	}
}

func TestExitsAfterStart(t *testing.T) {
	err := loadErr(t, wat(t, "load/start_exit"), host.Config{})
	if !errors.Is(err, host.ErrExitsAfterStart) {
		t.Errorf("error %q is not ErrExitsAfterStart", err)
	}
	if !strings.Contains(err.Error(), "-buildmode=c-shared") {
		t.Errorf("error %q does not say how to rebuild (-buildmode=c-shared)", err)
	}
}

func TestNotWasm(t *testing.T) {
	hello := wat(t, "hello")
	for name, b := range map[string][]byte{
		"nil":           nil,
		"text":          []byte("hello, I am not wasm"),
		"magic only":    []byte("\x00asm"),
		"header only":   hello[:8],
		"truncated":     hello[:len(hello)/2],
		"last cut":      hello[:len(hello)-1],
		"wrong ver":     append([]byte("\x00asm\x02\x00\x00\x00"), hello[8:]...),
		"trailing junk": append(append([]byte{}, hello...), 0xff, 0xff),
	} {
		t.Run(name, func(t *testing.T) {
			loadErr(t, b, host.Config{})
		})
	}
}

// TestInitLoop: New gives up when its context ends, even if _initialize
// never returns.
// newInBackground runs host.New in a goroutine (a hanging initializer must
// not hang the test) and sends its error; a plugin it made is closed.
func newInBackground(ctx context.Context, wasm []byte, cfg host.Config) <-chan error {
	done := make(chan error, 1)
	go func() {
		p, err := host.New(ctx, wasm, cfg)
		if p != nil {
			p.Close(context.Background())
		}
		done <- err
	}()
	return done
}

func TestInitLoop(t *testing.T) {
	wasm := wat(t, "load/init_loop")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	select {
	case err := <-newInBackground(ctx, wasm, host.Config{Logger: quiet()}):
		if err == nil {
			t.Fatal("New accepted a module whose _initialize never returns")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("New did not return 30 s after its context ended")
	}
}

func TestValidateGood(t *testing.T) {
	if err := host.Validate(context.Background(), wat(t, "hello"), host.Config{Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
}

// TestInitHostCalls: what SDKs call during init (get_config, log,
// enable_features) works outside a request.
func TestInitHostCalls(t *testing.T) {
	logger, logs := captureLogger(slog.LevelInfo)
	p := newPlugin(t, wat(t, "load/init_calls"), host.Config{GuestConfig: []byte("init config"), Logger: logger, PoolSize: 1})
	wantResponse(t, serve(t, p, get("/")), http.StatusOK, "init config")
	if len(logs.find("init-log")) == 0 {
		t.Errorf("log during _initialize lost: %v", logs.all())
	}
}

// TestInitTimeout: Config.InitTimeout refuses a guest whose _initialize
// hangs, even when the caller's context has no deadline.
func TestInitTimeout(t *testing.T) {
	wasm := wat(t, "load/init_loop")
	select {
	case err := <-newInBackground(context.Background(), wasm, host.Config{Logger: quiet(), InitTimeout: 300 * time.Millisecond}):
		if err == nil {
			t.Fatal("New accepted a module whose _initialize never returns")
		}
		if !strings.Contains(err.Error(), "_initialize") {
			t.Errorf("error %q does not name _initialize", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("New did not return 30 s after a 300 ms InitTimeout")
	}
}
