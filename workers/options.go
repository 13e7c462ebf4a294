package workers

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/httpserve"

	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// Spec is what a worker loads: a plugin version. It is sent to every worker
// in its hello message, so everything in it must be JSON-encodable.
type Spec struct {
	// Version tags the plugin in status and logs (e.g. a SHA-256 prefix).
	// When empty, the worker reports the loaded plugin's Hash() if it has one.
	Version string `json:"version,omitempty"`

	// PluginPath is the wasm file the worker loads (a snapshot, ideally).
	PluginPath string `json:"plugin_path,omitempty"`

	// Config is opaque to this package and handed to the LoadFunc; the CLI
	// puts the host configuration here.
	Config json.RawMessage `json:"config,omitempty"`
}

// versionOf is the version status shows for p loaded from spec:
// spec.Version, or the plugin's own hash when that is empty.
func versionOf(p httpserve.Plugin, spec Spec) string {
	if hp, ok := p.(interface{ Hash() string }); ok && spec.Version == "" {
		return hp.Hash()
	}
	return spec.Version
}

// LoadFunc loads the plugin described by spec. It runs in every worker (and
// in the primary with Workers == 0).
type LoadFunc func(ctx context.Context, spec Spec) (httpserve.Plugin, error)

// InProcess is the Workers value that serves in the primary's own process
// (for debugging); it is the zero value on purpose: `--workers 0`.
const InProcess = 0

// AutoWorkers asks for one worker per usable CPU (see UsableCPUs).
const AutoWorkers = -1

// PrimaryOptions configure RunPrimary.
type PrimaryOptions struct {
	// Listen is the address: "host:port" (TCP v4 or v6), "unix:/path".
	// Ignored when Listener is set or systemd passed a socket (LISTEN_FDS).
	// Defaults to "127.0.0.1:8080".
	Listen string

	// Listener, when set, is used instead of Listen (embedders and tests).
	// RunPrimary closes it on return.
	Listener net.Listener

	// Workers is the number of worker processes. 0 (InProcess) serves in
	// this process; AutoWorkers (-1) means UsableCPUs().
	Workers int

	// Spec is the plugin version the workers load at start.
	Spec Spec

	// Gate, when set, is the check Spec must pass before it takes traffic,
	// run while the first workers start: they load Spec and self-test, then
	// wait, not accepting, until Gate returns. nil lets them serve; an error
	// stops them (they never served) and Run returns that error. This puts
	// the primary's preflight beside a worker's start instead of before it.
	// Not used with Workers == InProcess.
	Gate func(ctx context.Context) error

	// Load loads a plugin in-process; used only when Workers == InProcess.
	Load LoadFunc

	// Reload, called on SIGHUP, returns the Spec to roll to (e.g. after
	// re-reading the config). Defaults to the current Spec (restart workers).
	Reload func(ctx context.Context) (Spec, error)

	// WorkerCommand is the argv that starts a worker; argv[0] is the binary.
	// Defaults to os.Executable() with the single argument "worker".
	WorkerCommand []string

	// WorkerEnv is added to the worker's environment (after os.Environ()).
	WorkerEnv []string

	// WorkerProcs is each worker's GOMAXPROCS once it serves (it loads
	// with all usable CPUs). 0: the usable CPUs shared out over Workers,
	// rounded up (1 with one worker per core); negative: Go's default. A
	// GOMAXPROCS in the environment or WorkerEnv always wins.
	WorkerProcs int

	// ControlPath is the control socket. Defaults to control.DefaultPath(),
	// or control-<pid>.sock beside it when another instance holds that;
	// "-" disables the control socket. A given path in use is an error.
	ControlPath string

	// DrainTimeout is the hard cap on a worker's drain and on the primary's
	// graceful stop. Defaults to 30s.
	DrainTimeout time.Duration

	// StartTimeout bounds a worker's start until ready (compile included).
	// Defaults to 60s.
	StartTimeout time.Duration

	// HeartbeatInterval is how often a worker reports. Defaults to 1s.
	HeartbeatInterval time.Duration

	// HeartbeatTimeout kills a worker silent for this long (after a stack
	// dump). Defaults to 10s.
	HeartbeatTimeout time.Duration

	// Backoff tunes respawn delays. Zero values are defaults.
	Backoff Backoff

	// Server tunes the HTTP server inside each worker. Its AccessLog lines
	// go to the worker's stderr, which the primary relays into its log.
	Server httpserve.Options

	// TLS, when set, terminates TLS on the listener with these certificate
	// and key files (several: chosen by SNI), in every worker or
	// in-process. The primary watches the files and hands a new pair that
	// passes its check to every worker for its next handshakes; a broken
	// one is refused (log, status) and the serving pair stays. Reload
	// (SIGHUP, the control socket) re-reads them too.
	TLS []tlscert.Pair

	// Admin, when set, serves /metrics, /healthz and /readyz (package
	// admin), with worker processes and in-process alike; the primary
	// closes it on return.
	Admin net.Listener

	// Recycle replaces workers past request, memory or age limits.
	Recycle RecycleOptions

	// IgnoreSignals leaves signal handling to the caller (cancel ctx for a
	// graceful stop). By default RunPrimary handles TERM, INT, QUIT, HUP,
	// TTIN and TTOU.
	IgnoreSignals bool

	// Logger receives the primary's log and every worker's re-logged lines.
	// Defaults to slog.Default().
	Logger *slog.Logger

	// AfterRoll, if set, is called after every roll (and revert) with its
	// outcome and the versions still in use (workers, the revert target):
	// the place to prune snapshots and compilation caches. It runs on the
	// roll goroutine; the next roll waits for it.
	AfterRoll func(st control.RollStatus, inUse []string)

	// PluginStatus, if set, adds the plugin file's state (watcher, last
	// refusal) to status. It must not block.
	PluginStatus func() *control.PluginStatus

	// KVStatus, if set, reports the shared store's backend and health
	// (kv.go): shown in status and /metrics, and a store that is down makes
	// /readyz answer 503. It must not block. nil: no store.
	KVStatus func() *control.KVStatus

	// OnReady, if set, is called once when the first worker set is ready
	// (all slots ready) — used by tests and by sd_notify-style embedders.
	OnReady func(addr net.Addr)
}

// Backoff is the respawn policy.
type Backoff struct {
	// Base is the first delay. Defaults to 100ms.
	Base time.Duration
	// Max caps the delay. Defaults to 30s.
	Max time.Duration
	// MinUptime: a worker that was ready at least this long before exiting
	// is respawned at Base without growing the delay (PM2's min_uptime).
	// Defaults to 1s.
	MinUptime time.Duration
	// StableAfter resets the failure count of a slot whose worker stays
	// ready this long. Defaults to 1m.
	StableAfter time.Duration
	// CrashLoop is the count of quick failures in a row reported as a crash
	// loop. Before any worker was ever ready (a cold start) it is also
	// where the primary gives up: RunPrimary stops and returns
	// ErrNoWorkerReady with the last worker's reason. Defaults to 5.
	CrashLoop int
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.MinUptime <= 0 {
		b.MinUptime = time.Second
	}
	if b.StableAfter <= 0 {
		b.StableAfter = time.Minute
	}
	if b.CrashLoop <= 0 {
		b.CrashLoop = 5
	}
	return b
}

func (o PrimaryOptions) withDefaults() PrimaryOptions {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.Workers < 0 {
		o.Workers = UsableCPUs()
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
	if o.HeartbeatTimeout < 2*o.HeartbeatInterval {
		o.HeartbeatTimeout = 2 * o.HeartbeatInterval
	}
	o.Backoff = o.Backoff.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// WorkerOptions configure RunWorker. Everything else (the Spec, timeouts,
// server tuning) arrives from the primary in the hello message.
type WorkerOptions struct {
	// Load loads the plugin named by the primary's Spec. Required.
	Load LoadFunc

	// Logger is where the worker logs; the primary re-logs its stderr.
	// Defaults to JSON lines on stderr at the primary's level.
	Logger *slog.Logger

	// LogLevel, if set, is set to the primary's log level once it is known
	// (pass the one Logger's handler uses).
	LogLevel *slog.LevelVar
}
