package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// PluginStatus is the plugin file's side of status: the watcher and what
// preflight decided last. The CLI fills it from plugins.Manager.Stats.
type PluginStatus struct {
	Path      string `json:"path"`
	Watching  bool   `json:"watching"`
	Accepted  string `json:"accepted,omitempty"` // last version accepted by preflight
	Checking  string `json:"checking,omitempty"` // version under preflight now
	NAccepted uint64 `json:"accepted_total"`
	NRefused  uint64 `json:"refused_total"`
	NErrors   uint64 `json:"errors_total"` // file unreadable, snapshot I/O
	// LastRefused is the last content preflight refused, nil if none.
	LastRefused *Refusal `json:"last_refused,omitempty"`
}

// Refusal is a plugin content that must not take traffic, and why.
type Refusal struct {
	Version string    `json:"version"` // SHA-256 of the refused bytes
	Error   string    `json:"error"`
	Trigger string    `json:"trigger,omitempty"`
	At      time.Time `json:"at"`
}

// ReloadArgs are the arguments of the "reload" control command.
type ReloadArgs struct {
	// Wait makes the answer wait for the roll's outcome.
	Wait bool `json:"wait,omitempty"`
}

// ReloadResult answers "reload": the version rolled to and, with Wait, the
// roll's outcome.
type ReloadResult struct {
	Version string      `json:"version"`
	Roll    *RollStatus `json:"roll,omitempty"`
}

// controlTimeouts lifts the control socket's default time bound for
// commands that wait for a roll.
var controlTimeouts = map[string]time.Duration{"reload": 15 * time.Minute}

// Reload asks the primary at the control socket path to re-read the plugin
// and roll the workers to it, as SIGHUP does. With wait, it returns once
// the roll finished and fails if it did not succeed; without, once the roll
// is queued. A refused plugin fails either way.
func Reload(ctx context.Context, path string, wait bool) (*ReloadResult, error) {
	var res ReloadResult
	if err := Control(ctx, path, "reload", ReloadArgs{Wait: wait}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (pr *Primary) controlReload(ctx context.Context, raw json.RawMessage) (any, error) {
	var args ReloadArgs
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, fmt.Errorf("reload arguments: %w", err)
		}
	}
	var spec Spec
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
	res := &ReloadResult{Version: spec.Version}
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
		return nil, fmt.Errorf("roll to %s still running: %w", short(spec.Version), ctx.Err())
	}
}

// rollStatus adds the roll and plugin state to st (supervisor goroutine).
func (pr *Primary) rollStatus(st *Status) {
	st.Roll, st.Target, st.LastGood = pr.rq.snapshot()
	if pr.opts.PluginStatus != nil {
		st.Plugin = pr.opts.PluginStatus()
	}
}
