package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// CPU time per request: the steadier figure on a shared box, where req/s
// mostly says who got the cores. It is the user+system time of a system's
// whole process tree (the primary or the single process, and every
// descendant: workers, node's cluster children) read from /proc before
// and after a load point, over the requests wrk completed in it.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// treeCPU is the CPU time in microseconds pid and its descendants have
// used so far (threads included; processes that exited are not).
func treeCPU(pid int) (float64, error) {
	t, err := procCPUTicks(pid)
	if err != nil {
		return 0, err
	}
	for _, c := range descendants(pid) {
		if n, err := procCPUTicks(c); err == nil {
			t += n
		}
	}
	return float64(t) * 1e6 / clockTicks, nil
}

// procCPUTicks is utime+stime of one process from /proc/PID/stat.
func procCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	// The command name may hold spaces; fields resume after its ')':
	// state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("read cpu time: /proc/%d/stat: too few fields", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu time: /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return u + s, nil
}

// cpuMeter measures one load point's CPU per request.
type cpuMeter struct {
	pid   int
	start float64
	err   error
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid}
	m.start, m.err = treeCPU(pid)
	return m
}

// perRequest is the CPU µs per request since startCPU; 0 when unknown.
func (m *cpuMeter) perRequest(requests int64) float64 {
	end, err := treeCPU(m.pid)
	if m.err != nil || err != nil || requests <= 0 {
		return 0
	}
	return (end - m.start) / float64(requests)
}

// cpuSummary keeps the median of the rounds' CPU per request in the
// point and every round's value beside it, so the report can show the
// spread.
func cpuSummary(pt *point, rounds []point) {
	var all []float64
	for _, r := range rounds {
		if r.Wrk.CPU > 0 {
			all = append(all, r.Wrk.CPU)
		}
	}
	pt.Wrk.CPURounds = all
	if len(all) == 0 {
		pt.Wrk.CPU = 0
		return
	}
	s := slices.Clone(all)
	slices.Sort(s)
	pt.Wrk.CPU = s[len(s)/2]
}

// cpuSpread renders a point's CPU per request and, with several rounds,
// their range.
func cpuSpread(p wrkResult) string {
	if p.CPU == 0 {
		return "–"
	}
	if len(p.CPURounds) < 2 {
		return fmt.Sprintf("%.1f", p.CPU)
	}
	return fmt.Sprintf("%.1f (%.1f–%.1f)", p.CPU, slices.Min(p.CPURounds), slices.Max(p.CPURounds))
}

// writeCPUTargets judges the CPU-per-request targets on the headline
// wasmcluster system: against native (WAT hello ≤ 1.15×, raw-ABI Go hello
// ≤ 1.25×), against Koa under node:cluster (≥ 1.5× the Go hellos' CPU,
// wasmcluster's req/s ≥ Koa's at every connection count) and p99 at the
// most connections ≤ 1.5× native. Each row shows every connection count;
// the CPU rows are judged at 64 connections (or the nearest below).
func writeCPUTargets(b *strings.Builder, cfg config, r *results) {
	h := r.headline()
	c := memPoint(cfg.conns, 64)
	top := slices.Max(cfg.conns)
	fmt.Fprintf(b, "### CPU per request targets, %s (judged at %d connections; every count shown)\n\n", r.label(h), c)
	fmt.Fprintf(b, "| target | judged | by connections | met |\n|---|---:|---|---|\n")
	// ratioAt is sys/base of f at conns n; NaN when either is missing.
	ratioAt := func(pn, sys, base string, n int, f func(wrkResult) float64) float64 {
		x, ok1 := r.find(sys, pn, n)
		y, ok2 := r.find(base, pn, n)
		if !ok1 || !ok2 || f(x) == 0 || f(y) == 0 {
			return math.NaN()
		}
		return f(x) / f(y)
	}
	cpu := func(w wrkResult) float64 { return w.CPU }
	rps := func(w wrkResult) float64 { return w.RPS }
	p99 := func(w wrkResult) float64 { return w.P99 }
	row := func(name string, at int, pn, sys, base string, f func(wrkResult) float64, ok func(float64) bool) {
		if !slices.Contains(cfg.plugins, pn) {
			return
		}
		var by []string
		for _, n := range cfg.conns {
			by = append(by, fmt.Sprintf("%d: %s", n, fmtRatio(ratioAt(pn, sys, base, n, f))))
		}
		v := math.NaN()
		if at > 0 {
			v = ratioAt(pn, sys, base, at, f)
		} else { // a floor at every count: judge the smallest (NaN if one is missing)
			v = math.Inf(1)
			for _, n := range cfg.conns {
				if x := ratioAt(pn, sys, base, n, f); math.IsNaN(x) || x < v {
					v = x
				}
				if math.IsNaN(v) {
					break
				}
			}
		}
		met := "–"
		if !math.IsNaN(v) {
			met = map[bool]string{true: "yes", false: "no"}[ok(v)]
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, fmtRatio(v), strings.Join(by, ", "), met)
	}
	atMost := func(lim float64) func(float64) bool { return func(v float64) bool { return v <= lim } }
	atLeast := func(lim float64) func(float64) bool { return func(v float64) bool { return v >= lim } }
	row("WAT hello CPU/req ≤ 1.15× native", c, "hello-wat", h, "native", cpu, atMost(1.15))
	row("raw-ABI Go hello CPU/req ≤ 1.25× native", c, "hello-raw", h, "native", cpu, atMost(1.25))
	row("SDK Go hello CPU/req ≤ 1.25× native", c, "hello-sdk", h, "native", cpu, atMost(1.25))
	for _, pn := range []string{"hello-raw", "hello-sdk"} {
		row(fmt.Sprintf("Koa CPU/req ≥ 1.5× wasmcluster, %s", pn), c, pn, "koa", h, cpu, atLeast(1.5))
		row(fmt.Sprintf("wasmcluster req/s ≥ Koa at every count, %s", pn), 0, pn, h, "koa", rps, atLeast(1))
	}
	for _, pn := range cfg.plugins {
		row(fmt.Sprintf("%s p99 at %d conns ≤ 1.5× native", pn, top), top, pn, h, "native", p99, atMost(1.5))
	}
	fmt.Fprintln(b)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func nanIfZero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}
