package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// adminAddr finds the admin listener's address in serve's JSON log.
func adminAddr(t *testing.T, s *testkit.Server) string {
	t.Helper()
	s.WaitLog(`"msg":"admin listening"`)
	for line := range strings.SplitSeq(s.Log.String(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "admin listening" {
			return rec.Addr
		}
	}
	t.Fatal("admin address not logged")
	return ""
}

func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// requestsByCode sums wasmcluster_requests_total over workers.
func requestsByCode(fams map[string]*dto.MetricFamily) (map[int]int, int) {
	out, total := map[int]int{}, 0
	for _, m := range fams["wasmcluster_requests_total"].GetMetric() {
		code, _ := strconv.Atoi(label(m, "code"))
		n := int(m.GetCounter().GetValue())
		out[code] += n
		total += n
	}
	return out, total
}

// After a known load through the real binary, /metrics counts exactly the
// statuses the client saw, per code; the other families are present.
func TestAdminMetrics(t *testing.T) {
	plugin := wat(t, "next")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/s/"))
		if err != nil {
			code = 200
		}
		w.WriteHeader(code)
	}))
	defer upstream.Close()
	s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--workers", "2", "--control", "-",
		"--admin", "127.0.0.1:0", "--upstream", upstream.URL, "--max-request-body", "16")
	admin := adminAddr(t, s)

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s %s", path, resp.Status, b)
		}
	}

	seen := map[int]int{}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // spread over both workers
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, s.URL()+path, nil)
		if body != "" {
			req.Body = io.NopCloser(strings.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		seen[resp.StatusCode]++
	}
	for i := range 60 {
		do("GET", "/s/200", "")
		if i%3 == 0 {
			do("GET", "/s/503", "")
		}
		if i%4 == 0 {
			do("GET", "/s/404", "")
		}
		if i%5 == 0 {
			do("POST", "/", strings.Repeat("x", 100)) // over max_request_body: 413
		}
	}
	want := 0
	for _, n := range seen {
		want += n
	}
	if seen[200] != 60 || seen[503] != 20 || seen[404] != 15 || seen[413] != 12 {
		t.Fatalf("client saw %v", seen)
	}

	// Workers report in heartbeats (every second): wait for all of it.
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams = scrape(t, admin)
		if _, total := requestsByCode(fams); total >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	got, _ := requestsByCode(fams)
	if fmt.Sprint(got) != fmt.Sprint(seen) {
		t.Errorf("/metrics requests by code %v, client saw %v", got, seen)
	}
	var histCount uint64
	workersSeen := map[string]bool{}
	for _, m := range fams["wasmcluster_request_duration_seconds"].GetMetric() {
		histCount += m.GetHistogram().GetSampleCount()
		workersSeen[label(m, "worker")] = true
	}
	if histCount != uint64(want) || !workersSeen["1"] || !workersSeen["2"] {
		t.Errorf("latency histogram: %d samples (want %d), workers %v", histCount, want, workersSeen)
	}
	for _, m := range fams["wasmcluster_requests_total"].GetMetric() {
		if code := label(m, "code"); label(m, "class") != code[:1]+"xx" {
			t.Errorf("class %q for code %s", label(m, "class"), code)
		}
	}
	for _, name := range []string{"wasmcluster_requests_in_flight", "wasmcluster_guest_traps_total",
		"wasmcluster_guest_timeouts_total", "wasmcluster_pool_instances", "wasmcluster_pool_rejected_total", "wasmcluster_worker_rss_bytes",
		"wasmcluster_plugin_info", "wasmcluster_workers", "wasmcluster_listen_backlog", "wasmcluster_roll_duration_seconds"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, m := range fams["wasmcluster_worker_rss_bytes"].GetMetric() {
		if m.GetGauge().GetValue() <= 0 {
			t.Errorf("worker %s RSS %v", label(m, "worker"), m.GetGauge().GetValue())
		}
	}
	for _, m := range fams["wasmcluster_workers"].GetMetric() {
		if label(m, "state") == "ready" && m.GetGauge().GetValue() != 2 {
			t.Errorf("ready workers: %v", m.GetGauge().GetValue())
		}
	}

	// A roll replaces both workers: it is counted, and the replaced
	// workers' requests stay in the counters (no reset under Prometheus).
	s.Signal(syscall.SIGHUP)
	counter := func(fams map[string]*dto.MetricFamily, name, lname, lvalue string) float64 {
		for _, m := range fams[name].GetMetric() {
			if label(m, lname) == lvalue {
				return m.GetCounter().GetValue()
			}
		}
		return 0
	}
	testkit.WaitFor(t, 20*time.Second, "a finished roll with 2 replaced workers in /metrics", func() bool {
		fams = scrape(t, admin)
		return counter(fams, "wasmcluster_rolls_total", "outcome", "ok") == 1 && counter(fams, "wasmcluster_worker_exits_total", "reason", "replaced") == 2
	})
	if got, _ := requestsByCode(fams); fmt.Sprint(got) != fmt.Sprint(seen) {
		t.Errorf("after the roll, /metrics requests by code %v, client saw %v", got, seen)
	}
	if n := fams["wasmcluster_roll_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("roll duration samples: %d", n)
	}
}
