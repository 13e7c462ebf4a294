// Package workers runs a plugin on every usable CPU: a primary process owns
// one listening socket and supervises worker processes that inherit it.
//
// # Model
//
// The primary ([RunPrimary]) creates the listener (TCP v4/v6 or unix:/path) or
// takes it from systemd socket activation (LISTEN_FDS), duplicates it without
// touching its non-blocking flag, and re-executes its own binary once per
// worker with the socket as fd 3 and one end of a socketpair as fd 4. The
// socketpair carries newline-delimited JSON: a hello (the [Spec] to load and
// the tuning) from the primary, then ready, heartbeats and fatal errors from
// the worker, and drain or stop commands back. A worker ([RunWorker]) reports
// ready only after its plugin loaded and answered an in-process self-test
// request.
//
// One supervisor goroutine owns all state. Process watchers, the signal
// handler and the control socket talk to it over channels, so there are no
// locks around the worker table. Two primitives are exposed to the roll (hot
// swap, issue 5): start a worker on a given Spec and wait until it is ready
// ([Primary.StartWorker]), and drain a worker ([Primary.Drain]). A reload (HUP)
// is built from them, surge-then-drain: start the replacement, wait for ready,
// only then drain the old worker, one slot at a time.
//
// # Rolls
//
// Rolls ([Primary.Submit]; roll.go, roll_queue.go) run one at a time on a
// roller goroutine. The replacement must be ready before the old worker
// drains, and the next replacement starts once the old worker stopped
// accepting (it finishes its requests meanwhile; the roll ends when every
// replaced worker exited): never fewer ready workers than configured, never
// more than one extra worker serving or starting. While a watched version is
// checked, the roll's first replacement may already be loading, held back
// from accepting ([Primary.Prestage]); the same hold keeps the first workers
// from serving until the primary's startup check passed
// ([PrimaryOptions.Gate]). A request arriving mid-roll retargets it: a worker still
// starting on the stale version is stopped (drained if it became ready
// meanwhile, since it may already have accepted connections) and the roll
// continues toward the newest version. A replacement that crashes or never
// becomes ready aborts the roll and the slots already replaced go back to
// the version that served. A new version that crash-loops within
// Backoff.StableAfter of its roll is reverted to the last version that ran
// well. Status carries the roll in progress or the last one (outcome,
// duration, error); the "reload" control command ([Reload]) triggers a roll
// and can wait for its outcome.
//
// # Failure handling
//
// A worker that exits unexpectedly is respawned in its slot with exponential
// backoff and jitter (100 ms doubling to 30 s; an exit after a stable uptime
// respawns at the base delay, and a stable minute resets the count). Five
// quick failures in a row mark the slot as crash-looping in logs and status;
// the primary never exits because workers fail. A worker exits when the
// primary dies: EOF on the socketpair, plus Pdeathsig (spawned from a thread
// locked for the primary's whole life, see Go issue 27505). A worker whose
// heartbeats stop is sent SIGQUIT (the Go runtime dumps its stacks to the
// log), then SIGKILL, and replaced.
//
// # Draining
//
// http.Server.Shutdown drops requests read on just-accepted connections and
// closes idle keep-alive connections under clients' feet. The careful drain
// instead stops accepting, waits for Serve to return, answers further
// requests with "Connection: close", closes still-idle connections only
// after a grace period, and exits when no connection remains (hard cap:
// the drain timeout).
//
// # Logs and control
//
// Workers log JSON lines to stderr; the primary re-logs every line whole
// through its own logger, tagged with the worker's id and pid. The primary
// serves a unix control socket (mode 0600) answering status requests; see
// [QueryStatus] and [DefaultControlPath].
//
// # Operations
//
// Each heartbeat carries the worker's cumulative request counters (by
// status code) and latency buckets; the primary aggregates them per slot
// and, with PrimaryOptions.Admin, serves Prometheus /metrics, /healthz and
// /readyz (admin.go, metrics.go). Under systemd ($NOTIFY_SOCKET) the
// primary reports READY, RELOADING, STOPPING and STATUS, and pings the
// watchdog only while its supervisor loop answers (notify.go).
// PrimaryOptions.Recycle replaces workers past max_requests, max_rss or
// max_age through the roll's surge-then-drain, one at a time (recycle.go).
// ServerOptions.AccessLog writes one line per request to the worker's
// stderr, which the primary relays (accesslog.go).
package workers
