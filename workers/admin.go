package workers

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The admin listener (PrimaryOptions.Admin) serves, in the primary:
//
//	/metrics  Prometheus text format (metrics.go)
//	/healthz  200 while the primary's supervisor loop answers
//	/readyz   200 when enough workers are ready on the current version
//	          and no roll is stuck; 503 with the reason otherwise

// AdminHandler is the admin listener's handler (exposed for embedders who
// serve it themselves).
func (pr *Primary) AdminHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{pr},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !pr.responsive(5 * time.Second) {
			http.Error(w, "supervisor loop not answering\n", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var rd readiness
		if !pr.do(func() { rd = pr.readiness(time.Now()) }) {
			rd = readiness{Reason: "stopped"}
		}
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

// readiness is /readyz's answer.
type readiness struct {
	Ready   bool   `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Workers int    `json:"workers_ready"`
	Desired int    `json:"workers_desired"`
	Version string `json:"version"`
}

// readiness: at least half of the desired workers (and at least one) are
// ready on the current version (or on the target of the roll under way),
// the primary is not stopping, and no roll has run longer than a roll of
// every slot could take with each step at its timeouts. Half, not all: a
// worker being recycled or respawned must not take the instance out of a
// load balancer.
func (pr *Primary) readiness(now time.Time) readiness {
	o := &pr.ops
	rd := readiness{Desired: pr.desired, Version: pr.spec.Version}
	for _, s := range pr.slots {
		p := s.cur
		if p != nil && p.state == stateReady && (p.spec.Version == pr.spec.Version || o.rolling && p.spec.Version == o.target) {
			rd.Workers++
		}
	}
	stuckAfter := time.Duration(max(pr.desired, 1)) * (pr.opts.StartTimeout + pr.opts.DrainTimeout + 10*time.Second)
	switch {
	case pr.stopping:
		rd.Reason = "stopping"
	case rd.Workers == 0 || 2*rd.Workers < pr.desired:
		rd.Reason = fmt.Sprintf("%d of %d workers ready on the current version", rd.Workers, pr.desired)
	case o.rolling && now.Sub(o.rollFrom) > stuckAfter:
		rd.Reason = fmt.Sprintf("roll to %s stuck for %s", shortVersion(o.target), now.Sub(o.rollFrom).Round(time.Second))
	default:
		rd.Ready = true
	}
	return rd
}

// serveAdmin serves the admin handler on ln until the primary returns.
func (pr *Primary) serveAdmin(ln net.Listener) {
	srv := &http.Server{Handler: pr.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-pr.quit
		srv.Close()
	}()
	pr.log.Info("admin listening", keyAddr, ln.Addr().String())
}
