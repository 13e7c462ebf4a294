package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/plugins"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// exitStuckGuest is a worker's exit code when an uninterruptible guest
// overran its deadline (EX_SOFTWARE).
const exitStuckGuest = 70

// RunWorker is a worker process started by Run's primary: it loads the
// snapshot the primary names with the host configuration the primary sent,
// and serves until told to drain. log and level are the worker's logger and
// the level the primary's is set to (see workers.WorkerOptions). Outside a
// worker process it returns workers.ErrNotWorker.
func RunWorker(ctx context.Context, log *slog.Logger, level *slog.LevelVar) error {
	return workers.RunWorker(ctx, workers.WorkerOptions{Load: loadSnapshot(log, workerKV), Logger: log, LogLevel: level})
}

// loadSnapshot is the LoadFunc of workers (and of InProcess): the host
// over the snapshot named by spec, checked against its hash, with the
// shared store storeKV gives (nil: off).
func loadSnapshot(log *slog.Logger, storeKV func() (host.KV, error)) workers.LoadFunc {
	return func(ctx context.Context, spec workers.Spec) (httpserve.Plugin, error) {
		hcfg, err := receivedHost(spec.Config, log)
		if err != nil {
			return nil, err
		}
		if hcfg.KV, err = storeKV(); err != nil {
			return nil, err
		}
		wasm, err := plugins.ReadSnapshot(spec.PluginPath)
		if err != nil {
			return nil, err
		}
		// Ready after the first instance: the rest of the pool fills in
		// the background while this worker already serves.
		p, err := host.Load(ctx, wasm, hcfg)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// receivedHost is the host configuration the primary sent (Spec.Config),
// completed with what cannot travel.
func receivedHost(raw json.RawMessage, log *slog.Logger) (host.Config, error) {
	var h host.Config
	if err := json.Unmarshal(raw, &h); err != nil {
		return host.Config{}, fmt.Errorf("worker config: %w", err)
	}
	h.Logger = log
	if h.Uninterruptible {
		// A guest past its deadline cannot be stopped in this process, so
		// the worker ends itself and the primary replaces it (a GC-frozen
		// worker is caught by the heartbeat instead).
		h.OnStuck = func(age time.Duration) {
			log.Error("exiting: a guest overran its deadline and cannot be interrupted", "age", age)
			os.Exit(exitStuckGuest)
		}
	}
	h.Next = selfTestGuard(host.NextHandler(h))
	out, err := outboundFor(h.OutboundGrant) // outbound.go
	if err != nil {
		return host.Config{}, err
	}
	h.Outbound = out
	return h, nil
}

// selfTestGuard answers a worker's self-test request with 204 instead of
// passing it to next (the upstream): readiness is about the plugin, and a
// slow or down upstream must not keep workers from starting.
func selfTestGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if preflight.IsSelfTest(r.Context()) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
