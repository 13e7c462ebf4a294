package preflight

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// Options tunes Check. The zero value runs a load check without self-test.
type Options struct {
	// Host is the host configuration the workers use. It must match theirs
	// (CacheDir, MemoryLimitPages, GuestConfig) so the compilation cache
	// entries preflight writes are the ones workers read. The pool size is
	// forced to one.
	Host host.Config

	// Path, when set, is requested with GET through the plugin after it
	// loaded (e.g. "/healthz"); an answer of 500 or above refuses the
	// version. Not with Host.Uninterruptible: a guest that loops could
	// never be stopped in this process, so the check is the load only and
	// the processes that load the version to serve it, which can be
	// killed, run the same SelfTest.
	Path string

	// Next answers the plugin's calls to next during the self-test.
	// Defaults to a handler answering 204 No Content.
	Next http.Handler

	// Timeout bounds the whole check, compile included. Defaults to 1m. A
	// hang in _initialize is caught sooner, by host.Config.InitTimeout.
	Timeout time.Duration

	// Keep, when set, receives the plugin an accepted check loaded instead
	// of it being closed, and owns it from then on: a process serving
	// in-process (--workers 0) serves that very plugin rather than loading
	// the version a second time. The check then loads with Host.PoolSize
	// (the rest of the pool fills in the background, see host.Load), and
	// the plugin's next is Host.Next (default: host.NextHandler(Host))
	// except for the self-test request, which gets Next.
	Keep func(*host.Plugin)
}

// DefaultTimeout is the Timeout used when Options.Timeout is zero. Compiling
// a 6 MB Go guest takes ~1.4 s on an idle 2-core machine and was seen to take
// 38 s on a heavily loaded one; wazero cannot interrupt a compile, so this
// bound only has to catch the pathological case.
const DefaultTimeout = time.Minute

// Stages of a check, as reported in Error.Stage.
const (
	StageLoad     = "load"      // compile, check exports, instantiate, initialize
	StageSelfTest = "self-test" // the GET to Options.Path
)

// Error is a refusal: the version must not take traffic.
type Error struct {
	Stage    string        // StageLoad or StageSelfTest
	Elapsed  time.Duration // time spent before the refusal
	TimedOut bool          // the stage ran out of time
	Err      error
}

func (e *Error) Error() string {
	if e.TimedOut {
		return fmt.Sprintf("preflight %s: timed out after %v: %v", e.Stage, e.Elapsed.Round(time.Millisecond), e.Err)
	}
	return fmt.Sprintf("preflight %s: %v", e.Stage, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Check refuses wasm with an *Error unless it loads and, when Options.Path
// is set, answers the self-test with a status below 500. It returns ctx's
// error (not an *Error) when ctx itself ends first: that says nothing about
// the plugin.
func Check(ctx context.Context, wasm []byte, opts Options) error {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cfg := opts.Host
	if cfg.Uninterruptible {
		opts.Path = ""
	}
	stub := opts.Next
	if stub == nil {
		stub = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})
	}
	cfg.PoolSize, cfg.Next = 1, stub
	if opts.Keep != nil {
		cfg.PoolSize, cfg.Next = opts.Host.PoolSize, keptNext(opts.Host, stub)
	}

	refuse := func(stage string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("preflight %s interrupted: %w", stage, context.Cause(ctx))
		}
		timedOut := tctx.Err() != nil
		if timedOut && stage == StageLoad {
			// Compilation cannot be interrupted, so a slow compile on a busy
			// machine can use up the budget too.
			err = fmt.Errorf("%w (limit %v: _initialize or _start never returns, or compiling took too long)", err, timeout)
		}
		return &Error{Stage: stage, Elapsed: time.Since(start), TimedOut: timedOut, Err: err}
	}

	if opts.Path == "" && opts.Keep == nil {
		if err := host.Validate(tctx, wasm, cfg); err != nil {
			return refuse(StageLoad, err)
		}
		return nil
	}

	p, stage, err := loadAndTest(tctx, wasm, cfg, opts.Path)
	if err != nil {
		return refuse(stage, err)
	}
	if opts.Keep != nil {
		opts.Keep(p)
		return nil
	}
	_ = p.Close(context.Background())
	return nil
}

// loadAndTest loads wasm and, when path is set, self-tests it; a failure
// says at which stage.
func loadAndTest(ctx context.Context, wasm []byte, cfg host.Config, path string) (*host.Plugin, string, error) {
	id := newRequestID()
	faults := newFaultLog(cmp.Or(cfg.Logger, slog.Default()).Handler(), id)
	cfg.Logger = slog.New(faults)
	p, err := host.Load(ctx, wasm, cfg)
	if err != nil {
		return nil, StageLoad, err
	}
	if path == "" {
		return p, "", nil
	}
	if err := selfTest(ctx, p, path, id); err != nil {
		_ = p.Close(context.Background())
		if f := faults.Fault(); f != "" {
			err = fmt.Errorf("%w; the plugin failed: %s", err, f)
		}
		return nil, StageSelfTest, err
	}
	return p, "", nil
}

// keptNext is the next of a plugin that will serve after its check: the
// serving next, except for the check's own self-test request.
func keptNext(h host.Config, stub http.Handler) http.Handler {
	serving := h.Next
	if serving == nil {
		serving = host.NextHandler(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsSelfTest(r.Context()) {
			stub.ServeHTTP(w, r)
			return
		}
		serving.ServeHTTP(w, r)
	})
}

// IsRefusal reports whether err is a refusal of the plugin (as opposed to
// the check being interrupted).
func IsRefusal(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
