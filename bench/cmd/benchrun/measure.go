package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// point is one (system, plugin, connections) measurement.
type point struct {
	System string    `json:"system"`
	Plugin string    `json:"plugin"`
	Conns  int       `json:"conns"`
	Wrk    wrkResult `json:"wrk"`
	Err    string    `json:"error,omitempty"`
}

// memSample is the RSS of a system's processes at one moment.
type memSample struct {
	System string    `json:"system"`
	Plugin string    `json:"plugin"`
	Phase  string    `json:"phase"` // idle, load
	Procs  []procMem `json:"procs"`
}

type results struct {
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Machine  machine        `json:"machine"`
	Systems  []systemInfo   `json:"systems"`
	Points   []point        `json:"points"`
	Memory   []memSample    `json:"memory"`
	Cold     []coldStart    `json:"cold_start"`
	Swap     []swapResult   `json:"swap"`
	InstMem  []instMemory   `json:"instance_memory"`
	Notes    []string       `json:"notes"`
	Config   map[string]any `json:"config"`
}

type systemInfo struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	WC    bool   `json:"wasmcluster"`
}

// measure runs every measurement; it keeps going after a failed system so
// one broken piece does not lose the rest of the run, and returns the
// failures joined.
func measure(ctx context.Context, cfg config, log *slog.Logger) (*results, error) {
	res := &results{Started: time.Now(), Machine: describeMachine(), Config: map[string]any{
		"duration": cfg.duration.String(), "warmup": cfg.warmup.String(), "conns": cfg.conns,
		"plugins": cfg.plugins, "rounds": cfg.rounds, "systems": cfg.systems, "quick": cfg.quick, "command": cfg.command, "commit": cfg.commit,
		"wrk_threads": fmt.Sprintf("min(conns, %d)", cfg.cores),
	}}
	defer func() { res.Finished = time.Now() }()
	if !cfg.workersArg {
		res.Notes = append(res.Notes, "wasmcluster serve has no --workers flag in this build: only the in-process server was measured.")
	}
	systems, err := systemsFor(cfg)
	if err != nil {
		return res, err
	}
	for _, s := range systems {
		res.Systems = append(res.Systems, systemInfo{Name: s.name, Label: s.label, WC: s.wc})
	}
	var errs []error
	for _, pn := range cfg.plugins {
		p, ok := allPlugins[pn]
		if !ok {
			return res, fmt.Errorf("unknown plugin %q", pn)
		}
		script := filepath.Join(cfg.out, "wrk-"+p.name+".lua")
		if err := writeScript(script, p.post); err != nil {
			return res, err
		}
		log.Info("load", "plugin", p.name)
		if err := loadPlugin(ctx, cfg, log, res, systems, p, script); err != nil {
			log.Error("load failed", "plugin", p.name, "err", err)
			errs = append(errs, err)
		}
	}
	if cfg.coldRuns > 0 {
		cs, err := measureColdStarts(ctx, cfg, log, systems)
		res.Cold = cs
		errs = append(errs, err)
	}
	if cfg.swapRuns > 0 {
		sw, note, err := measureSwaps(ctx, cfg, log)
		res.Swap = sw
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
		errs = append(errs, err)
	}
	if cfg.instMem {
		im, err := measureInstanceMemory(ctx, cfg, log)
		res.InstMem = im
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// running is one started system under test.
type running struct {
	sys system
	srv *server
	url string
}

// loadPlugin starts every system with plugin p, then runs the load points
// interleaved: for each connection count, every system in turn, for
// cfg.rounds rounds. Systems measured seconds apart see the same machine
// (this box is shared and its load drifts over minutes). A point keeps the
// round with the median throughput.
func loadPlugin(ctx context.Context, cfg config, log *slog.Logger, res *results, systems []system, p plugin, script string) error {
	if _, err := os.Stat(filepath.Join(cfg.wasmDir, p.wasm)); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	var errs []error
	var live []running
	defer func() {
		for _, r := range live {
			if err := r.srv.stop(); err != nil {
				log.Warn("stop", "system", r.sys.name, "err", err)
			}
		}
	}()
	for _, s := range systems {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		srv, err := startServer(s.name, s.argv(p), addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := srv.waitReady(ctx, 90*time.Second); err != nil {
			srv.stop()
			errs = append(errs, fmt.Errorf("%s/%s: %w\n%s", s.name, p.name, err, srv.logTail()))
			continue
		}
		live = append(live, running{sys: s, srv: srv, url: "http://" + addr + "/bench?q=1"})
	}
	time.Sleep(300 * time.Millisecond) // let workers finish starting
	for _, r := range live {
		if procs, err := treeRSS(r.srv.cmd.Process.Pid); err == nil {
			res.Memory = append(res.Memory, memSample{System: r.sys.name, Plugin: p.name, Phase: "idle", Procs: procs})
		}
		if cfg.warmup > 0 {
			if _, out, err := runWrk(ctx, cfg.wrk, script, r.url, 16, cfg.warmup, cfg.cores); err != nil {
				errs = append(errs, fmt.Errorf("%s/%s warmup: %w\n%s\n%s", r.sys.name, p.name, err, out, r.srv.logTail()))
			}
		}
	}
	memAt := memPoint(cfg.conns, cfg.memConns)
	for _, c := range cfg.conns {
		rounds := make(map[string][]point)
		for round := range cfg.rounds {
			for _, r := range live {
				if ctx.Err() != nil {
					return errors.Join(append(errs, ctx.Err())...)
				}
				var wg sync.WaitGroup
				if c == memAt && round == 0 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						time.Sleep(cfg.duration * 2 / 3)
						if procs, err := treeRSS(r.srv.cmd.Process.Pid); err == nil {
							res.Memory = append(res.Memory, memSample{System: r.sys.name, Plugin: p.name, Phase: fmt.Sprintf("load (%d conns)", c), Procs: procs})
						}
					}()
				}
				cpu := startCPU(r.srv.cmd.Process.Pid)
				w, out, err := runWrk(ctx, cfg.wrk, script, r.url, c, cfg.duration, cfg.cores)
				w.CPU = cpu.perRequest(w.Requests)
				wg.Wait()
				pt := point{System: r.sys.name, Plugin: p.name, Conns: c, Wrk: w}
				if err != nil {
					pt.Err = firstLine(err.Error())
					errs = append(errs, fmt.Errorf("%s/%s/%d: %w", r.sys.name, p.name, c, err))
				} else if w.Requests == 0 {
					pt.Err = "no requests completed"
					errs = append(errs, fmt.Errorf("%s/%s/%d: no requests completed:\n%s", r.sys.name, p.name, c, out))
				}
				log.Info("point", "plugin", p.name, "system", r.sys.name, "conns", c, "round", round, "rps", int(w.RPS),
					"p99_ms", w.P99/1000, "cpu_us", int(w.CPU), "errors", w.Errors(), "non2xx", w.Status)
				rounds[r.sys.name] = append(rounds[r.sys.name], pt)
			}
		}
		for _, r := range live {
			pt := medianPoint(rounds[r.sys.name])
			cpuSummary(&pt, rounds[r.sys.name])
			res.Points = append(res.Points, pt)
		}
	}
	for _, r := range live {
		select {
		case <-r.srv.done:
			errs = append(errs, fmt.Errorf("%s/%s: server exited during the run: %s\n%s", r.sys.name, p.name, r.srv.cmd.ProcessState, r.srv.logTail()))
		default:
		}
	}
	return errors.Join(errs...)
}

// medianPoint returns the round with the median throughput (failed rounds
// count as zero).
func medianPoint(pts []point) point {
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b point) int { return cmp.Compare(a.Wrk.RPS, b.Wrk.RPS) })
	return s[len(s)/2]
}

// memPoint picks the largest connection count not above want (or the
// smallest there is).
func memPoint(conns []int, want int) int {
	best := conns[0]
	for _, c := range conns {
		if c <= want && (c > best || best > want) {
			best = c
		}
	}
	return best
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
