// Package admin is the admin listener: Prometheus /metrics, /healthz and
// /readyz over whatever serves the plugin.
//
// # Model
//
// The package keeps no state of its own. Each scrape asks a [Source] for a
// [Snapshot] (per-slot request counters, latency, pool and memory gauges,
// worker exits, rolls, versions) and turns it into constant metrics: one
// consistent snapshot per scrape, no duplicated bookkeeping. A Source is
// the primary supervising worker processes, or the server of
// `--workers 0`; both report through the same collector, so their
// /metrics cannot drift.
//
// /healthz answers 200 while the Source's loop answers ([Source.Responsive]);
// /readyz answers the Source's [Readiness], 503 with the reason when not
// ready. /metrics also reports the serving socket's accept queue (the
// listen backlog, from /proc/net/tcp), which no worker can see.
package admin
