package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wasmcluster/wasmcluster/workers/control"

	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// Source is what the admin listener reports on.
type Source interface {
	// Snapshot is the state /metrics reports; false once the source
	// stopped.
	Snapshot() (Snapshot, bool)
	// Responsive reports whether the source's loop answers within d.
	Responsive(d time.Duration) bool
	// Readiness is /readyz's answer.
	Readiness() Readiness
}

// Snapshot is one scrape's worth of state.
type Snapshot struct {
	Slots         []Slot            // by slot id
	Exits         map[string]uint64 // worker exits while serving, by reason
	Rolls         map[string]uint64 // rolls by outcome
	RollDurations Histogram
	States        map[string]int // worker processes by state (every reported state, zeros included)
	Desired       int
	Version       string            // the version new workers start
	Versions      map[string]int    // worker processes by version
	KV            *control.KVStatus // the shared store; nil when off
	// PrimaryUnavailable counts the requests the primary answered 503
	// itself while no worker was ready (reported as worker="primary").
	PrimaryUnavailable uint64
}

// Slot is one worker slot's aggregate: the counters of every process that
// served it, and the gauges of those alive.
type Slot struct {
	ID                           int
	Total                        httpserve.Metrics
	InFlight                     int64
	Conns                        int64 // client connections open (the workers' balance table)
	RSS                          int64
	PoolSize, PoolLive, PoolIdle int
	PoolMax                      int
	Upgraded                     int64 // open upgraded connections (Total.UpgradedTotal counts all)
}

// Histogram is a distribution: Counts per bucket of Bounds (upper bounds,
// not cumulative), then +Inf; Sum of the observed values.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Sum    float64
}

// Readiness is /readyz's answer.
type Readiness struct {
	Ready   bool   `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Workers int    `json:"workers_ready"`
	Desired int    `json:"workers_desired"`
	Version string `json:"version"`
}

// Handler serves, for src:
//
//	/metrics  Prometheus text format
//	/healthz  200 while src's loop answers
//	/readyz   200 when src is ready; 503 with the reason otherwise
//
// served is the listening socket that serves the plugin, whose accept
// queue /metrics reports (nil or a unix socket: none).
func Handler(src Source, served net.Listener) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src: src, lnInode: socketInode(served)},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !src.Responsive(5 * time.Second) {
			http.Error(w, "supervisor loop not answering\n", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rd := src.Readiness()
		w.Header().Set("Content-Type", "application/json")
		if !rd.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(rd)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "wasmcluster admin: /metrics /healthz /readyz")
	})
	return mux
}

// Server serves Handler on the admin listener.
type Server struct{ srv *http.Server }

// Timeouts of the admin listener. A scraper on a 15 s interval keeps its
// connection; idle connections beyond idleTimeout, and clients that never
// finish their headers, give their file descriptors back: a pile of idle
// keep-alive connections must not starve the primary (whose worker
// respawns and control socket need descriptors too).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 30 * time.Second
	writeTimeout      = time.Minute
)

// Serve serves Handler(src, served) on ln in the background until Close.
// Accept errors (EMFILE, …) are retried with backoff by net/http.
func Serve(ln net.Listener, src Source, served net.Listener) *Server {
	s := &Server{srv: &http.Server{
		Handler:           Handler(src, served),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		WriteTimeout:      writeTimeout,
	}}
	go s.srv.Serve(ln)
	return s
}

// Close closes the admin listener and its connections.
func (s *Server) Close() error { return s.srv.Close() }
