package workers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// controlReload answers the "reload" command: re-read the plugin (Reload)
// and roll to it, optionally waiting for the outcome.
func (pr *Primary) controlReload(ctx context.Context, raw json.RawMessage) (any, error) {
	var args control.ReloadArgs
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, fmt.Errorf("reload arguments: %w", err)
		}
	}
	var spec Spec
	pr.tls.check()
	if pr.opts.Reload != nil {
		s, err := pr.opts.Reload(ctx)
		if err != nil {
			pr.log.Error("reload failed; workers keep the old version", keyErr, err)
			return nil, err
		}
		spec = s
	} else if !pr.do(func() { spec = pr.spec }) {
		return nil, ErrStopping
	}
	ch := pr.Submit(RollRequest{Spec: spec, Restart: true, Trigger: "control"})
	res := &control.ReloadResult{Version: spec.Version}
	if !args.Wait {
		return res, nil
	}
	select {
	case st := <-ch:
		res.Roll = &st
		if err := st.Err(); err != nil {
			return nil, err
		}
		if st.Target != spec.Version {
			// Retargeted by a newer version that rolled fine: the plugin
			// file changed again meanwhile; report what serves now.
			res.Version = st.Target
		}
		return res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("roll to %s still running: %w", digest.Short(spec.Version), ctx.Err())
	}
}

// rollStatus adds the roll and plugin state to st (supervisor goroutine).
func (pr *Primary) rollStatus(st *control.Status) {
	st.Roll, st.Target, st.LastGood = pr.rq.snapshot()
	if pr.opts.PluginStatus != nil {
		st.Plugin = pr.opts.PluginStatus()
	}
}
