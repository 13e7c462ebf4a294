package serve

import (
	"context"
	"sync"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// handoff passes the plugin preflight accepted to the in-process server
// (Workers == InProcess), so a version is loaded once instead of twice
// (preflight, then serve). It holds at most one plugin, the newest
// accepted.
type handoff struct {
	mu sync.Mutex
	p  *host.Plugin
}

// keep is preflight.Options.Keep.
func (h *handoff) keep(p *host.Plugin) {
	h.mu.Lock()
	old := h.p
	h.p = p
	h.mu.Unlock()
	if old != nil {
		old.Close(context.Background())
	}
}

// load serves the kept plugin when it is the version asked for, and loads
// the snapshot otherwise (a restart of the same version).
func (h *handoff) load(fallback workers.LoadFunc) workers.LoadFunc {
	return func(ctx context.Context, spec workers.Spec) (httpserve.Plugin, error) {
		h.mu.Lock()
		p := h.p
		if p != nil && p.Hash() == spec.Version {
			h.p = nil
		} else {
			p = nil
		}
		h.mu.Unlock()
		if p != nil {
			return p, nil
		}
		return fallback(ctx, spec)
	}
}

func (h *handoff) close() { h.keep(nil) }
