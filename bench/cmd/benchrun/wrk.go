package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// reportLua makes wrk print one machine-readable line at the end (its
// --latency table has no p99.9 and rounds to two digits). Latencies are in
// microseconds. The request itself is set by the prelude for each plugin.
const reportLua = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHRUN {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d," ..
    "\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d," ..
    "\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
`

// echoBody is the 4 KiB request body of the echo plugin's request mix.
var echoBody = strings.Repeat("0123456789abcdef", 256)

// echoPrelude sets the echo plugin's request: a POST with a 4 KiB body and
// the headers a browser-ish client would send.
func echoPrelude() string {
	return fmt.Sprintf(`
wrk.method = "POST"
wrk.body = %q
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Accept"] = "application/json"
wrk.headers["User-Agent"] = "wasmcluster-bench/1"
wrk.headers["X-Request-Id"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
wrk.headers["X-Forwarded-For"] = "203.0.113.7"
wrk.headers["Accept-Encoding"] = "identity"
wrk.headers["Cookie"] = "session=abc123; theme=dark"
`, echoBody)
}

// writeScript writes the wrk Lua script for a plugin's request mix.
func writeScript(path string, post bool) error {
	s := reportLua
	if post {
		s = echoPrelude() + s
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write wrk script: %w", err)
	}
	return nil
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	Connect    int64   `json:"connect"`
	Read       int64   `json:"read"`
	Write      int64   `json:"write"`
	Status     int64   `json:"status"` // non-2xx/3xx responses
	Timeout    int64   `json:"timeout"`
	P50        float64 `json:"p50"` // microseconds
	P90        float64 `json:"p90"`
	P99        float64 `json:"p99"`
	P999       float64 `json:"p999"`
	Max        float64 `json:"max"`
	// RPS is wrk's own "Requests/sec" line when present, else computed.
	RPS float64 `json:"rps"`
	// CPU is the server's CPU µs per request (cpu.go), the median over
	// the rounds in CPURounds; 0 when not measured.
	CPU       float64   `json:"cpu_us_per_req,omitempty"`
	CPURounds []float64 `json:"cpu_us_rounds,omitempty"`
}

// Errors counts socket-level failures (not non-2xx responses).
func (r wrkResult) Errors() int64 { return r.Connect + r.Read + r.Write + r.Timeout }

// runWrk runs wrk against url for d with conns connections.
func runWrk(ctx context.Context, wrk, script, url string, conns int, d time.Duration, threads int) (wrkResult, string, error) {
	threads = max(1, min(threads, conns))
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", wrkSeconds(d)), "--timeout", "10s",
		"--latency", "-s", script, url,
	}
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return wrkResult{}, out.String(), fmt.Errorf("wrk %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return res, out.String(), fmt.Errorf("wrk %s: %w", strings.Join(args, " "), err)
	}
	return res, out.String(), nil
}

// wrkSeconds rounds d up to whole seconds: wrk takes no finer duration.
func wrkSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// parseWrk reads the BENCHRUN line written by reportLua and wrk's own
// Requests/sec line.
func parseWrk(out string) (wrkResult, error) {
	var res wrkResult
	found := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "BENCHRUN "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "BENCHRUN ")), &res); err != nil {
				return res, fmt.Errorf("parse report line %q: %w", line, err)
			}
			found = true
		case strings.HasPrefix(line, "Requests/sec:"):
			f := strings.Fields(line)
			if len(f) == 2 {
				res.RPS, _ = strconv.ParseFloat(f[1], 64)
			}
		}
	}
	if !found {
		return res, fmt.Errorf("no report line in wrk output:\n%s", out)
	}
	if res.RPS == 0 && res.DurationUS > 0 {
		res.RPS = float64(res.Requests) / (float64(res.DurationUS) / 1e6)
	}
	return res, nil
}
