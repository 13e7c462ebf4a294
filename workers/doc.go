// Package workers runs a plugin on every usable CPU: a primary process owns
// one listening socket and supervises worker processes that inherit it.
//
// # Packages
//
// This package is the primary and the worker process's side of their
// protocol. The rest has a package per job: [control] is the control
// socket (wire types, client, server transport), [httpserve] serves
// requests (careful drain, meter, access log) in a worker and
// in-process alike, [admin] is the admin listener (/metrics, /healthz,
// /readyz) and [systemd] speaks sd_notify and writes unit files.
//
// # Model
//
// The primary ([RunPrimary]) creates the listener (TCP v4/v6 or unix:/path)
// or takes it from systemd socket activation (LISTEN_FDS), duplicates it
// without touching its non-blocking flag, and re-executes its own binary
// once per worker with the socket as fd 3 and one end of a socketpair as
// fd 4. The socketpair carries newline-delimited JSON: a hello (the [Spec]
// to load and the tuning) from the primary, then ready, heartbeats (with
// the worker's cumulative request counters) and fatal errors from the
// worker, and serve, drain or stop commands back. A worker ([RunWorker])
// reports ready only after its plugin loaded and, when a self-test path
// is set (httpserve.Options.SelfTestPath), answered preflight.SelfTest:
// the primary's check and every worker apply the one definition. On
// Linux a third descriptor, fd 5, is the connection balance table
// ([balance]): the hello names the worker's slot in it, and the worker
// accepts only its share of the connections.
//
// One supervisor goroutine owns all state (primary.go, supervise.go).
// Process watchers, the signal handler, the roller, the control socket and
// the admin listener reach it over channels.
//
// # Rolls
//
// Rolls ([Primary.Submit]; roll.go, roll_queue.go) run one at a time on a
// roller goroutine, slot by slot, surge-then-drain: the replacement must be
// ready before the old worker drains, and the next replacement starts once
// the old worker stopped accepting; the roll ends when every replaced
// worker exited. Never fewer ready workers than configured, never more than
// one extra worker serving or starting. A request arriving mid-roll
// retargets it. A replacement that crashes or never becomes ready aborts
// the roll and the slots already replaced go back to the version that
// served; a new version that crash-loops within Backoff.StableAfter of its
// roll is reverted to the last version that ran well. While a watched
// version is checked, the roll's first replacement may already be loading,
// held back from accepting ([Primary.Prestage]); the same hold keeps the
// first workers from serving until the primary's startup check passed
// ([PrimaryOptions.Gate]). Recycling (PrimaryOptions.Recycle: max_requests,
// max_rss, max_age) replaces one worker at a time the same way.
//
// # Failures
//
// A worker that exits unexpectedly is respawned in its slot with
// exponential backoff and jitter (100 ms doubling to 30 s; an exit after a
// stable uptime respawns at the base delay, and a stable minute resets the
// count). Five quick failures in a row mark the slot as crash-looping in
// logs and status. Before any worker was ever ready (a cold start), those
// five failures stop the primary instead, which returns
// [ErrNoWorkerReady] with the worker's reason; after a good start it never
// exits because workers fail. While no worker is ready and a slot has
// failed, the primary accepts on the shared socket itself and answers 503
// with Retry-After (unavailable.go) until a worker is ready again. A worker
// exits when the primary dies: EOF on the socketpair, plus Pdeathsig. A
// worker whose heartbeats stop is sent SIGQUIT (its stacks reach the log),
// then SIGKILL, and replaced.
//
// # Logs and operations
//
// Workers log JSON lines to stderr, access lines included; the primary
// re-logs every line whole through its own logger, tagged with the
// worker's id and pid. The primary serves the control socket, the admin
// listener from the counters the heartbeats carry, and, under systemd
// ($NOTIFY_SOCKET), reports READY, RELOADING, STOPPING and STATUS and pings
// the watchdog while its loop answers.
//
// # In-process
//
// With Workers == [InProcess] the primary serves the plugin itself
// (inprocess.go), with the same httpserve server, access log relay, admin
// listener, control socket, notifications and signals; there is nothing to
// supervise, and HUP swaps the plugin in place once the new one loaded (and
// passed its self-test, when a path is set).
//
// # TLS
//
// With PrimaryOptions.TLS the listener speaks TLS, terminated where
// requests are served (tls.go). The primary reads and checks the pairs,
// watches their files, and sends the accepted PEM bytes to every worker
// (in the hello, then in a tls message per change; reload and HUP re-read
// the files); a worker installs them for its next handshakes. A broken
// replacement is refused (log, status) and the serving pair stays.
package workers
