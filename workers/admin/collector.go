package admin

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmcluster/wasmcluster/workers/control"
)

// collector is an unchecked prometheus.Collector over a Source: one
// Snapshot per scrape.
type collector struct {
	src     Source
	lnInode uint64 // the served socket's inode, for the backlog; 0 if none
}

func (collector) Describe(chan<- *prometheus.Desc) {}

var (
	descRequests = prometheus.NewDesc("wasmcluster_requests_total", "HTTP requests served, by worker slot (\"primary\": the 503s the primary answers itself while no worker is ready), status code and class.", []string{"worker", "code", "class"}, nil)
	descLatency  = prometheus.NewDesc("wasmcluster_request_duration_seconds", "Time from the plugin receiving a request to its answer, by worker slot.", []string{"worker"}, nil)
	descInFlight = prometheus.NewDesc("wasmcluster_requests_in_flight", "Requests being served, by worker slot.", []string{"worker"}, nil)
	descConns    = prometheus.NewDesc("wasmcluster_connections_open", "Client connections open, by worker slot (workers balance them).", []string{"worker"}, nil)
	descTraps    = prometheus.NewDesc("wasmcluster_guest_traps_total", "Requests answered 500 because the guest trapped.", []string{"worker"}, nil)
	descTimeouts = prometheus.NewDesc("wasmcluster_guest_timeouts_total", "Requests answered 504 because the guest ran past request_timeout.", []string{"worker"}, nil)
	descWaits    = prometheus.NewDesc("wasmcluster_pool_waits_total", "Requests that found every guest instance busy, the pool at its bound, and waited for one (raise plugin.memory_budget if this grows).", []string{"worker"}, nil)
	descRejected = prometheus.NewDesc("wasmcluster_pool_rejected_total", "Requests answered 503 with Retry-After because no guest instance freed up within plugin.pool_wait.", []string{"worker"}, nil)
	descPool     = prometheus.NewDesc("wasmcluster_pool_instances", "Guest instances per worker slot: size are prewarmed and kept idle, max is the bound (plugin.memory_budget), live exist, idle wait in the pool.", []string{"worker", "state"}, nil)
	descUpstream = prometheus.NewDesc("wasmcluster_upstream_failures_total", "Requests the --upstream proxy could not complete, by cause: timeout (answered 504), connect, reset, bad_response (502) are the upstream's; body_too_large (413), bad_body (400), client_gone (no answer) the client's.", []string{"worker", "cause"}, nil)
	descOutbound = prometheus.NewDesc("wasmcluster_outbound_calls_total", "Outbound HTTP calls made by plugins, by target host and result (ok, or the abi.Status name: denied, not_granted, timeout, unavailable, too_large, invalid).", []string{"worker", "host", "result"}, nil)
	descUpgraded = prometheus.NewDesc("wasmcluster_upgraded_connections", "Upgraded connections (WebSockets relayed to the upstream) open now, by worker slot.", []string{"worker"}, nil)
	descUpgrades = prometheus.NewDesc("wasmcluster_upgraded_connections_total", "Upgraded connections (WebSockets relayed to the upstream) opened, by worker slot.", []string{"worker"}, nil)
	descRSS      = prometheus.NewDesc("wasmcluster_worker_rss_bytes", "Resident memory of the worker slot's processes (sampled every second).", []string{"worker"}, nil)
	descRestarts = prometheus.NewDesc("wasmcluster_worker_exits_total", "Worker processes that exited while serving, by reason (crash, replaced, recycle max_rss, heartbeat timeout, ...).", []string{"reason"}, nil)
	descRolls    = prometheus.NewDesc("wasmcluster_rolls_total", "Rolls to a new plugin version, by outcome.", []string{"outcome"}, nil)
	descRollDur  = prometheus.NewDesc("wasmcluster_roll_duration_seconds", "Duration of rolls.", nil, nil)
	descInfo     = prometheus.NewDesc("wasmcluster_plugin_info", "The plugin version new workers start (value 1).", []string{"version"}, nil)
	descVersions = prometheus.NewDesc("wasmcluster_plugin_version_workers", "Worker processes running each plugin version.", []string{"version"}, nil)
	descWorkers  = prometheus.NewDesc("wasmcluster_workers", "Worker processes by state.", []string{"state"}, nil)
	descDesired  = prometheus.NewDesc("wasmcluster_workers_desired", "Configured number of workers.", nil, nil)
	descBacklog  = prometheus.NewDesc("wasmcluster_listen_backlog", "Connections waiting in the listening socket's accept queue (TCP only).", nil, nil)
)

// PrimaryWorker is the worker label of the requests the primary answers
// itself (503 while no worker is ready): the same family as the workers'
// answers, so a 5xx rate summed over workers includes them.
const PrimaryWorker = "primary"

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.src.Snapshot()
	if !ok {
		return
	}
	for _, sl := range s.Slots {
		collectSlot(ch, sl)
	}
	if s.PrimaryUnavailable > 0 { // like a worker's codes: a series once it counted
		counter(ch, descRequests, float64(s.PrimaryUnavailable), PrimaryWorker, "503", "5xx")
	}
	collectWorkers(ch, s)
	collectKV(ch, s) // kv.go
	if q, ok := backlog(c.lnInode); ok {
		gauge(ch, descBacklog, float64(q))
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, lv ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, lv ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, lv...)
}

// histogram reports h, its buckets made cumulative as Prometheus wants.
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h Histogram, lv ...string) {
	cum := make(map[float64]uint64, len(h.Bounds))
	var total uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			total += h.Counts[i]
		}
		cum[b] = total
	}
	if n := len(h.Counts); n > len(h.Bounds) {
		total += h.Counts[n-1]
	}
	ch <- prometheus.MustNewConstHistogram(d, total, h.Sum, cum, lv...)
}

// collectSlot reports one worker slot's series.
func collectSlot(ch chan<- prometheus.Metric, sl Slot) {
	w := strconv.Itoa(sl.ID)
	for code, n := range sl.Total.Codes {
		counter(ch, descRequests, float64(n), w, strconv.Itoa(code), strconv.Itoa(code/100)+"xx")
	}
	histogram(ch, descLatency, Histogram{Bounds: control.LatencyBounds, Counts: sl.Total.Buckets, Sum: sl.Total.SumSeconds}, w)
	gauge(ch, descInFlight, float64(sl.InFlight), w)
	gauge(ch, descConns, float64(sl.Conns), w)
	counter(ch, descTraps, float64(sl.Total.Traps), w)
	counter(ch, descTimeouts, float64(sl.Total.Timeouts), w)
	counter(ch, descWaits, float64(sl.Total.PoolWaits), w)
	counter(ch, descRejected, float64(sl.Total.PoolRejected), w)
	for cause, n := range sl.Total.Upstream { // every cause, zeros included (host.UpstreamStats.ByCause)
		counter(ch, descUpstream, float64(n), w, cause)
	}
	for key, n := range sl.Total.Outbound { // "host result" (host.Stats.Outbound)
		host, result, _ := strings.Cut(key, " ")
		counter(ch, descOutbound, float64(n), w, host, result)
	}
	gauge(ch, descPool, float64(sl.PoolSize), w, "size")
	gauge(ch, descPool, float64(sl.PoolMax), w, "max")
	gauge(ch, descPool, float64(sl.PoolLive), w, "live")
	gauge(ch, descPool, float64(sl.PoolIdle), w, "idle")
	gauge(ch, descRSS, float64(sl.RSS), w)
	gauge(ch, descUpgraded, float64(sl.Upgraded), w)
	counter(ch, descUpgrades, float64(sl.Total.UpgradedTotal), w)
}

// collectWorkers reports the series about the worker set: exits, rolls,
// versions, states.
func collectWorkers(ch chan<- prometheus.Metric, s Snapshot) {
	for r, n := range s.Exits {
		counter(ch, descRestarts, float64(n), r)
	}
	for o, n := range s.Rolls {
		counter(ch, descRolls, float64(n), o)
	}
	histogram(ch, descRollDur, s.RollDurations)
	if s.Version != "" {
		gauge(ch, descInfo, 1, s.Version)
	}
	for v, n := range s.Versions {
		gauge(ch, descVersions, float64(n), v)
	}
	for _, st := range slices.Sorted(maps.Keys(s.States)) {
		gauge(ch, descWorkers, float64(s.States[st]), st)
	}
	gauge(ch, descDesired, float64(s.Desired))
}
