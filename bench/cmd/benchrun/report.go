package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmcluster/wasmcluster/bench/internal/chart"
)

// writeReport writes results.json, results.md and chart.png into cfg.out.
func writeReport(cfg config, res *results) error {
	if res == nil {
		return nil
	}
	j, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.out, "results.json"), j, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.out, "results.md"), []byte(markdown(cfg, res)), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	var png bytes.Buffer
	if err := renderChart(&png, cfg, res); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.out, "chart.png"), png.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

func (r *results) find(system, plugin string, conns int) (wrkResult, bool) {
	for _, p := range r.Points {
		if p.System == system && p.Plugin == plugin && p.Conns == conns && p.Err == "" {
			return p.Wrk, true
		}
	}
	return wrkResult{}, false
}

// headline is the wasmcluster system the targets are judged on: one worker
// per core when workers exist, else the in-process server.
func (r *results) headline() string {
	for _, s := range r.Systems {
		if s.Name == "wc-cores" {
			return s.Name
		}
	}
	return "wc-0"
}

func (r *results) label(system string) string {
	for _, s := range r.Systems {
		if s.Name == system {
			return s.Label
		}
	}
	return system
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func msStr(us float64) string { return fmt.Sprintf("%.2f", us/1000) }

func markdown(cfg config, r *results) string {
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	m := r.Machine
	w("Machine: %d CPUs (%s), kernel %s, %s, %s, RAM %s. Run %s, %s.\n\n", m.CPUs, m.CPU, m.Kernel, m.Go, m.Wrk, m.MemKiB,
		m.Started, r.Finished.Sub(r.Started).Round(1e9))
	if cfg.command != "" {
		w("Command: `%s`", cfg.command)
		if cfg.commit != "" {
			w(" at commit %s", cfg.commit)
		}
		w("\n\n")
	}
	w("Each point: wrk for %s after a %s warm-up per system, threads = min(connections, %d), keep-alive, loopback; "+
		"all systems of a plugin run at once (idle but one) and are loaded in turn at each connection count, %d round(s), median round kept. "+
		"Latencies in ms. errors = socket errors (connect, read, write, timeout); non-2xx from wrk's status count. "+
		"Ratios: req/s and p99 of each wasmcluster row against native and the reference host at the same connections. "+
		"CPU µs/req: user+system time of the server's whole process tree (from /proc, before and after the point) over the requests completed, "+
		"the median over the rounds with their range in brackets; CPU ×native for every row.\n\n",
		cfg.duration, cfg.warmup, cfg.cores, cfg.rounds)
	if cfg.quick {
		w("**Quick mode: a harness check, the numbers mean nothing.**\n\n")
	}
	for _, n := range r.Notes {
		w("Note: %s\n\n", n)
	}
	for _, pn := range cfg.plugins {
		p := allPlugins[pn]
		w("### %s (`%s`)\n\n", p.title, p.wasm)
		w("| conns | system | req/s | CPU µs/req | p50 | p99 | p99.9 | errors | non-2xx | req/s ×native | req/s ×ref | CPU ×native | p99 ×native | p99 ×ref |\n")
		w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range cfg.conns {
			nat, _ := r.find("native", pn, c)
			ref, _ := r.find("refhost", pn, c)
			for _, s := range r.Systems {
				x, ok := r.find(s.Name, pn, c)
				if !ok {
					w("| %d | %s | failed | | | | | | | | | | | |\n", c, s.Label)
					continue
				}
				rn, rr, pn99, pr99, cn := "", "", "", "", ""
				if s.Name != "native" {
					cn = ratio(x.CPU, nat.CPU)
				}
				if s.WC {
					rn, rr = ratio(x.RPS, nat.RPS), ratio(x.RPS, ref.RPS)
					pn99, pr99 = ratio(x.P99, nat.P99), ratio(x.P99, ref.P99)
				}
				w("| %d | %s | %.0f | %s | %s | %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", c, s.Label, x.RPS, cpuSpread(x),
					msStr(x.P50), msStr(x.P99), msStr(x.P999), x.Errors(), x.Status, rn, rr, cn, pn99, pr99)
			}
		}
		w("\n")
	}
	writeTargets(&b, cfg, r)
	writeCPUTargets(&b, cfg, r)
	writeMemory(&b, r)
	writeCold(&b, r)
	writeSwap(&b, r)
	if len(r.InstMem) > 0 {
		w("### Memory per live plugin instance\n\n`wasmcluster serve --workers 0 --plugin-pool-size N` after 64-connection load; (RSS(N=17) − RSS(N=1)) / 16.\n\n")
		w("| plugin | RSS pool=1 MiB | RSS pool=17 MiB | per instance MiB |\n|---|---:|---:|---:|\n")
		for _, im := range r.InstMem {
			w("| %s | %.1f | %.1f | %.2f |\n", im.Plugin, kib(im.SmallKiB), kib(im.LargeKiB), im.PerInstMiB)
		}
		w("\n")
	}
	return b.String()
}

func kib(k int64) float64 { return float64(k) / 1024 }

func writeTargets(b *strings.Builder, cfg config, r *results) {
	h := r.headline()
	c := memPoint(cfg.conns, 64)
	fmt.Fprintf(b, "### Targets, judged on %s at %d connections\n\n", r.label(h), c)
	fmt.Fprintf(b, "| target | measured | met |\n|---|---:|---|\n")
	row := func(name string, v float64, ok bool, unit string) {
		met := "no"
		if ok {
			met = "yes"
		}
		if math.IsNaN(v) {
			fmt.Fprintf(b, "| %s | not measured | – |\n", name)
			return
		}
		fmt.Fprintf(b, "| %s | %.2f%s | %s |\n", name, v, unit, met)
	}
	get := func(sys, pn string) (wrkResult, bool) { return r.find(sys, pn, c) }
	rpsRatio := func(pn, base string) float64 {
		x, ok1 := get(h, pn)
		y, ok2 := get(base, pn)
		if !ok1 || !ok2 || y.RPS == 0 {
			return math.NaN()
		}
		return x.RPS / y.RPS
	}
	p99Ratio := func(pn, base string) float64 {
		x, ok1 := get(h, pn)
		y, ok2 := get(base, pn)
		if !ok1 || !ok2 || y.P99 == 0 {
			return math.NaN()
		}
		return x.P99 / y.P99
	}
	v := rpsRatio("hello-wat", "native")
	row("WAT hello throughput ≥ 0.85× native", v, v >= 0.85, "×")
	v = rpsRatio("hello-sdk", "native")
	row("SDK Go hello throughput ≥ 0.75× native", v, v >= 0.75, "×")
	for _, pn := range cfg.plugins {
		v = rpsRatio(pn, "refhost")
		row(fmt.Sprintf("%s throughput ≥ 1.2× reference host", pn), v, v >= 1.2, "×")
		v = p99Ratio(pn, "refhost")
		row(fmt.Sprintf("%s p99 ≤ reference host", pn), v, v <= 1, "×")
		v = p99Ratio(pn, "native")
		row(fmt.Sprintf("%s p99 ≤ 2× native", pn), v, v <= 2, "×")
	}
	v = math.NaN()
	for _, cs := range r.Cold {
		if cs.System == h && cs.Plugin == "hello-sdk" && cs.Cache == "warm" && len(cs.Runs) > 0 {
			v = cs.Median()
		}
	}
	row("cold start, warm cache, SDK hello ≤ 300 ms (median)", v, v <= 300, " ms")
	v = math.NaN()
	for _, s := range r.Swap {
		if s.Plugin == "version-go" && s.Completed {
			v = math.Max(nanZero(v), s.AllNew)
		}
	}
	row("swap latency, Go guest ≤ 1 s (worst run)", v, v <= 1000, " ms")
	v = math.NaN()
	for _, mem := range r.Memory {
		if mem.System == h && mem.Plugin == "hello-sdk" && strings.HasPrefix(mem.Phase, "load") {
			for _, p := range mem.Procs {
				if p.Role != "primary" || h == "wc-0" {
					v = math.Max(nanZero(v), kib(p.RSSKiB))
				}
			}
		}
	}
	row("RSS per worker under load, SDK hello ≤ 64 MiB (largest)", v, v <= 64, " MiB")
	fmt.Fprintln(b)
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func writeMemory(b *strings.Builder, r *results) {
	if len(r.Memory) == 0 {
		return
	}
	fmt.Fprintf(b, "### Resident memory (RSS, MiB, from /proc/PID/status)\n\nIdle = after the first 200, before load; load = two thirds into the load point.\n\n")
	fmt.Fprintf(b, "| plugin | system | phase | primary | workers | total |\n|---|---|---|---:|---|---:|\n")
	for _, m := range r.Memory {
		var ws []string
		var total int64
		prim := 0.0
		for _, p := range m.Procs {
			total += p.RSSKiB
			if p.Role == "primary" {
				prim = kib(p.RSSKiB)
			} else {
				ws = append(ws, fmt.Sprintf("%.1f", kib(p.RSSKiB)))
			}
		}
		wss := strings.Join(ws, ", ")
		if wss == "" {
			wss = "–"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.1f | %s | %.1f |\n", m.Plugin, r.label(m.System), m.Phase, prim, wss, kib(total))
	}
	fmt.Fprintln(b)
}

func writeCold(b *strings.Builder, r *results) {
	if len(r.Cold) == 0 {
		return
	}
	fmt.Fprintf(b, "### Cold start (command start → first 200 on GET /)\n\n")
	fmt.Fprintf(b, "| plugin | system | compilation cache | median ms | runs ms |\n|---|---|---|---:|---|\n")
	for _, c := range r.Cold {
		var runs []string
		for _, x := range c.Runs {
			runs = append(runs, fmt.Sprintf("%.0f", x))
		}
		med := fmt.Sprintf("%.0f", c.Median())
		if c.Err != "" {
			med = "failed: " + c.Err
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", c.Plugin, r.label(c.System), c.Cache, med, strings.Join(runs, ", "))
	}
	fmt.Fprintln(b)
}

func writeSwap(b *strings.Builder, r *results) {
	if len(r.Swap) == 0 {
		return
	}
	fmt.Fprintf(b, "### Hot swap (plugin file replaced by rename under 4 busy clients)\n\n")
	fmt.Fprintf(b, "| plugin | system | trigger | first new ms | 100%% new ms | requests | failed | completed |\n|---|---|---|---:|---:|---:|---:|---|\n")
	for _, s := range r.Swap {
		fmt.Fprintf(b, "| %s | %s | %s | %.0f | %.0f | %d | %d | %v |\n", s.Plugin, r.label(s.System), s.Trigger, s.FirstNew, s.AllNew, s.Requests, s.Failed, s.Completed)
	}
	fmt.Fprintln(b)
}

var palette = []color.RGBA{
	{30, 30, 30, 255},   // native
	{214, 39, 40, 255},  // reference
	{31, 119, 180, 255}, // wc cores
	{44, 160, 44, 255},  // wc 1
	{255, 127, 14, 255}, // wc 0
	{148, 103, 189, 255},
	{140, 86, 75, 255},   // brown
	{227, 119, 194, 255}, // pink
	{23, 190, 207, 255},  // teal
}

func renderChart(w *bytes.Buffer, cfg config, r *results) error {
	var xl []string
	for _, c := range cfg.conns {
		xl = append(xl, fmt.Sprint(c))
	}
	var panels []chart.Panel
	for _, pn := range cfg.plugins {
		p := allPlugins[pn]
		rps := chart.Panel{Title: p.title + ": req/s vs conns", XLabels: xl}
		p99 := chart.Panel{Title: p.title + ": p99 ms vs conns", XLabels: xl}
		cpu := chart.Panel{Title: p.title + ": CPU us/request vs conns", XLabels: xl}
		for i, s := range r.Systems {
			a := chart.Series{Name: s.Label, Color: palette[i%len(palette)]}
			q, u := a, a
			for _, c := range cfg.conns {
				x, ok := r.find(s.Name, pn, c)
				if !ok {
					a.Y = append(a.Y, math.NaN())
					q.Y = append(q.Y, math.NaN())
					u.Y = append(u.Y, math.NaN())
					continue
				}
				a.Y = append(a.Y, x.RPS)
				q.Y = append(q.Y, x.P99/1000)
				u.Y = append(u.Y, nanIfZero(x.CPU))
			}
			rps.Series = append(rps.Series, a)
			p99.Series = append(p99.Series, q)
			cpu.Series = append(cpu.Series, u)
		}
		panels = append(panels, rps, p99, cpu)
	}
	title := fmt.Sprintf("wasmcluster benchmark, %d CPUs, %s per point", r.Machine.CPUs, cfg.duration)
	if err := chart.Render(w, title, 3, panels); err != nil {
		return fmt.Errorf("render chart: %w", err)
	}
	return nil
}
