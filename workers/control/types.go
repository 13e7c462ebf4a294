package control

import (
	"errors"
	"time"
)

// Status is the primary's answer to "status".
type Status struct {
	PID           int            `json:"pid"`
	Listen        string         `json:"listen"`
	Control       string         `json:"control,omitempty"`
	UptimeSeconds float64        `json:"uptime_seconds"`
	Desired       int            `json:"workers_desired"`
	InProcess     bool           `json:"in_process,omitempty"`
	Version       string         `json:"version,omitempty"`
	Stopping      bool           `json:"stopping,omitempty"`
	LastRoll      string         `json:"last_roll,omitempty"`
	Target        string         `json:"target,omitempty"`    // version a roll in progress moves to
	LastGood      string         `json:"last_good,omitempty"` // version a crash-looping new one reverts to
	Roll          *RollStatus    `json:"roll,omitempty"`      // the roll in progress, else the last one
	Plugin        *PluginStatus  `json:"plugin,omitempty"`    // the plugin file (watcher, refusals)
	TLS           *TLSStatus     `json:"tls,omitempty"`       // serving certificates (tls.go)
	KV            *KVStatus      `json:"kv,omitempty"`        // the shared store (kv.go); nil when off
	Workers       []WorkerStatus `json:"workers"`
}

// WorkerStatus is one worker process (or an empty slot waiting to respawn,
// with PID 0 and state "backoff" or "crash-loop").
type WorkerStatus struct {
	ID            int     `json:"id"`
	PID           int     `json:"pid"`
	State         string  `json:"state"`
	Version       string  `json:"version,omitempty"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Requests      uint64  `json:"requests"`
	InFlight      int64   `json:"in_flight"`
	// Conns is the client connections the worker holds open (the shared
	// balance table's count; 0 where there is none).
	Conns     int64  `json:"connections"`
	RSSBytes  int64  `json:"rss_bytes"`
	Restarts  int    `json:"restarts"`
	LastExit  string `json:"last_exit,omitempty"`
	CrashLoop bool   `json:"crash_loop,omitempty"`

	// Upgraded is this process's open upgraded connections (WebSockets
	// relayed to the upstream; they count in InFlight too), UpgradedTotal
	// those it opened.
	Upgraded      int64  `json:"upgraded"`
	UpgradedTotal uint64 `json:"upgraded_total"`
	// Errors is the worker's answers of 500 or more since it started
	// (traps and timeouts included): the fleet's canary watches it rise.
	Errors uint64 `json:"errors_5xx"`

	// LatencyBuckets counts this process's requests per LatencyBounds
	// bucket (then +Inf), cumulative over its life: two snapshots give the
	// latency distribution in between (wasmcluster top's p99).
	LatencyBuckets []uint64 `json:"latency_buckets,omitempty"`
}

// LatencyBounds are the upper bounds (seconds) of the request latency
// histogram, shared by the workers' meters, /metrics and `wasmcluster top`.
var LatencyBounds = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Outcomes of a roll, as shown in status.
const (
	OutcomeRolling  = "rolling"  // in progress
	OutcomeOK       = "ok"       // every worker runs the target
	OutcomeAborted  = "aborted"  // a new worker failed; the old version serves
	OutcomeReverted = "reverted" // the new version crash-looped; the last good one serves again
)

// RollStatus is a roll in progress or finished.
type RollStatus struct {
	Target          string        `json:"target"`
	From            string        `json:"from,omitempty"`
	Trigger         string        `json:"trigger,omitempty"`
	Outcome         string        `json:"outcome"`
	Error           string        `json:"error,omitempty"`
	StartedAt       time.Time     `json:"started_at"`
	Duration        time.Duration `json:"-"`
	DurationSeconds float64       `json:"duration_seconds"`
	Replaced        int           `json:"replaced"`            // workers started on the target
	Retargets       int           `json:"retargets,omitempty"` // newer versions that arrived mid-roll
}

// Err is nil when the roll succeeded, else an error with its reason.
func (s RollStatus) Err() error {
	if s.Outcome == OutcomeOK {
		return nil
	}
	if s.Error == "" {
		return errors.New("roll " + s.Outcome)
	}
	return errors.New(s.Error)
}

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
	// Build is the dev loop's outcome when the plugin is built from a
	// source directory (serve DIR), nil otherwise.
	Build *BuildStatus `json:"build,omitempty"`
}

// BuildStatus is the dev loop of a plugin served from its sources: each
// save rebuilds it; a failed build leaves the running version serving.
type BuildStatus struct {
	Dir       string    `json:"dir"`
	Kind      string    `json:"kind"`
	Builds    uint64    `json:"builds_total"`
	Failures  uint64    `json:"failures_total"`
	At        time.Time `json:"at"`                   // end of the last build
	Version   string    `json:"version,omitempty"`    // last module built
	LastError string    `json:"last_error,omitempty"` // the last build's failure; "" when it succeeded
}

// Refusal is a plugin content that must not take traffic, and why.
type Refusal struct {
	Version string    `json:"version"` // SHA-256 of the refused bytes
	Error   string    `json:"error"`
	Trigger string    `json:"trigger,omitempty"`
	At      time.Time `json:"at"`
}

// ReloadArgs are the arguments of the "reload" command.
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
