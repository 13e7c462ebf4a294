// Package kvopen opens the kv.Store a kv.Config selects: it is the one
// place that knows every backend, so callers (cmd, workers) import it and
// kv alone.
//
//	kv.url = "" or "embedded"  natskv on the primary's embedded server:
//	                          Config from embedded.Server.WorkerConfig
//	                          (a worker) or InProcessConfig (--workers 0)
//	kv.url = nats://a,nats://b natskv on an external NATS cluster
//	kv.url = redis[s]://…      rediskv
//	kv.url = off               kv.ErrOff: no store
package kvopen

import (
	"context"
	"fmt"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/natskv"
	"github.com/wasmcluster/wasmcluster/kv/rediskv"
)

// Open validates cfg (with its defaults) and opens the store it selects.
// An unreachable server is not an error here: the Store reports itself
// unhealthy and recovers. kv.url = off returns kv.ErrOff.
func Open(ctx context.Context, cfg kv.Config) (kv.Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Scheme() {
	case kv.URLOff:
		return nil, kv.ErrOff
	case kv.URLEmbedded:
		if cfg.InProcess == nil {
			return nil, fmt.Errorf("kv.url = %q: the embedded store is opened through the primary's server "+
				"(embedded.Server.WorkerConfig or InProcessConfig), not directly", cfg.URL)
		}
		return natskv.Open(ctx, cfg)
	case "nats":
		return natskv.Open(ctx, cfg)
	case "redis":
		return rediskv.Open(ctx, cfg)
	}
	return nil, fmt.Errorf("kv.url = %q: unknown scheme", cfg.URL)
}
