package workers

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/balance"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// controlHandlers are the commands the primary answers on its control
// socket.
func (pr *Primary) controlHandlers() map[string]control.Handler {
	return map[string]control.Handler{
		control.CmdStatus: func(ctx context.Context, _ json.RawMessage) (any, error) {
			var st control.Status
			if !pr.do(func() { st = pr.status() }) {
				return nil, ErrStopping
			}
			return st, nil
		},
		control.CmdReload: pr.controlReload, // roll_control.go
	}
}

// status snapshots the supervisor's state (runs on its goroutine).
func (pr *Primary) status() control.Status {
	now := time.Now()
	st := control.Status{
		PID: os.Getpid(), Listen: pr.ln.Addr().String(), Control: pr.controlPath(), UptimeSeconds: now.Sub(pr.started).Seconds(),
		Desired: pr.desired, Version: pr.spec.Version, Stopping: pr.stopping, LastRoll: pr.lastRoll,
	}
	pr.rollStatus(&st) // roll_control.go
	st.TLS = pr.tls.status()
	seen := make(map[*proc]bool)
	for _, s := range pr.slots {
		ws := control.WorkerStatus{ID: s.id, Restarts: s.restarts, LastExit: s.lastExit, CrashLoop: s.crashLoop, State: "backoff"}
		if s.crashLoop {
			ws.State = "crash-loop"
		}
		if s.cur != nil {
			seen[s.cur] = true
			fillProc(&ws, s.cur, now, pr.board)
		}
		st.Workers = append(st.Workers, ws)
	}
	for p := range pr.procs { // surge and draining workers
		if !seen[p] {
			ws := control.WorkerStatus{ID: p.id}
			fillProc(&ws, p, now, pr.board)
			st.Workers = append(st.Workers, ws)
		}
	}
	pr.opsStatus(&st)                                      // metrics.go
	st.KV = kvStatus(&pr.opts, pr.metricsSnapshot().Slots) // kv.go
	return st
}

func fillProc(ws *control.WorkerStatus, p *proc, now time.Time, board *balance.Board) {
	ws.PID, ws.State, ws.Version = p.pid, string(p.state), p.version
	if ws.Version == "" {
		ws.Version = p.spec.Version
	}
	ws.UptimeSeconds = now.Sub(p.started).Seconds()
	ws.Requests, ws.InFlight = p.requests, p.inFlight
	ws.Conns = board.Conns(p.bslot)
	ws.RSSBytes = readRSS(p.pid)
	if p.state == stateExited {
		ws.LastExit = p.exitDesc
	}
}
