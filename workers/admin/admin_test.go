package admin

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// fixed is a Source with a fixed answer.
type fixed struct {
	snap       Snapshot
	responsive bool
	ready      Readiness
}

func (f fixed) Snapshot() (Snapshot, bool)    { return f.snap, true }
func (f fixed) Responsive(time.Duration) bool { return f.responsive }
func (f fixed) Readiness() Readiness          { return f.ready }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A snapshot is reported as the series Prometheus scrapes, on a real
// listener; /healthz and /readyz follow the source.
func TestServe(t *testing.T) {
	served, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	src := fixed{snap: Snapshot{
		Slots: []Slot{{ID: 1, Total: httpserve.Metrics{Codes: map[int]uint64{200: 3, 503: 1}, Buckets: []uint64{4}, SumSeconds: 0.002,
			PoolWaits: 3, PoolRejected: 1}, PoolSize: 4, PoolMax: 16}},
		Exits: map[string]uint64{"crash": 2}, Rolls: map[string]uint64{"ok": 1},
		RollDurations: Histogram{Bounds: []float64{1, 10}, Counts: []uint64{0, 1, 0}, Sum: 2.5},
		States:        map[string]int{"ready": 1, "starting": 0}, Desired: 1, Version: "v1", Versions: map[string]int{"v1": 1},
		PrimaryUnavailable: 7,
	}, ready: Readiness{Reason: "0 of 1 workers ready on the current version", Desired: 1, Version: "v1"}}
	s := Serve(ln, src, served)
	defer s.Close()
	base := "http://" + ln.Addr().String()

	code, body := get(t, base+"/metrics")
	for _, want := range []string{
		`wasmcluster_requests_total{class="2xx",code="200",worker="1"} 3`,
		`wasmcluster_requests_total{class="5xx",code="503",worker="1"} 1`,
		`wasmcluster_requests_total{class="5xx",code="503",worker="primary"} 7`,
		`wasmcluster_request_duration_seconds_count{worker="1"} 4`,
		`wasmcluster_pool_instances{state="size",worker="1"} 4`,
		`wasmcluster_pool_instances{state="max",worker="1"} 16`,
		`wasmcluster_pool_waits_total{worker="1"} 3`,
		`wasmcluster_pool_rejected_total{worker="1"} 1`,
		`wasmcluster_worker_exits_total{reason="crash"} 2`,
		`wasmcluster_roll_duration_seconds_bucket{le="1"} 0`,
		`wasmcluster_roll_duration_seconds_bucket{le="10"} 1`,
		`wasmcluster_workers{state="starting"} 0`,
		`wasmcluster_plugin_info{version="v1"} 1`,
		`wasmcluster_listen_backlog 0`,
	} {
		if code != 200 || !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz of an unresponsive source: %d", code)
	}
	code, body = get(t, base+"/readyz")
	var rd Readiness
	if err := json.Unmarshal([]byte(body), &rd); err != nil || code != http.StatusServiceUnavailable || rd.Reason != src.ready.Reason {
		t.Errorf("/readyz: %d %s (%v)", code, body, err)
	}
}
