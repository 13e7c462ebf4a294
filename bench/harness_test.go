package bench

import (
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestHarnessQuick runs `bash bench/run.sh --quick` end to end and checks
// that every system produced load points, and that the report and chart
// were written. It checks the harness, not the numbers.
func TestHarnessQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dozen servers; skipped with -short")
	}
	for _, tool := range []string{"wrk", "wat2wasm", "node", "npm"} {
		testkit.Require(t, tool)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "run.sh", "--quick", "--out", out, "--timeout", "5m")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run.sh --quick: %v\n%s", err, b)
	}
	var res struct {
		Systems []struct{ Name string }
		Points  []struct {
			System, Plugin, Error string
			Conns                 int
			Wrk                   struct {
				Requests int64
				CPU      float64 `json:"cpu_us_per_req"`
			}
		}
		Memory []struct{ System string }
		Cold   []struct {
			System string
			Runs   []float64 `json:"runs_ms"`
		} `json:"cold_start"`
	}
	j, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(res.Systems) < 3 {
		t.Fatalf("want native, refhost and at least one wasmcluster system, got %+v", res.Systems)
	}
	var koa bool
	for _, s := range res.Systems {
		n, cpu := 0, 0
		for _, p := range res.Points {
			if p.System == s.Name && p.Error == "" && p.Wrk.Requests > 0 {
				n++
				if p.Wrk.CPU > 0 {
					cpu++
				}
			}
		}
		if n == 0 {
			t.Errorf("system %s: no successful load point", s.Name)
		}
		if cpu < n {
			t.Errorf("system %s: CPU per request measured at %d of %d load points", s.Name, cpu, n)
		}
		koa = koa || s.Name == "koa"
	}
	if !koa {
		t.Errorf("Koa under node:cluster is not among the systems: %+v", res.Systems)
	}
	if len(res.Memory) == 0 || len(res.Cold) == 0 {
		t.Errorf("memory (%d samples) and cold start (%d) must be measured", len(res.Memory), len(res.Cold))
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### WAT hello", "req/s ×native", "CPU µs/req", "### Targets", "### CPU per request targets", "### Cold start"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	f, err := os.Open(filepath.Join(out, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("chart.png: %v", err)
	}
}
