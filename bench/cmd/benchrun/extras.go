package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	Wrk     string `json:"wrk"`
	MemKiB  string `json:"mem_total"`
	Started string `json:"date"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemKiB = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"))
	}
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	m.Wrk = firstLine(strings.TrimSpace(string(out)))
	return m
}

// coldStart is command start → first 200, over several runs.
type coldStart struct {
	System string    `json:"system"`
	Plugin string    `json:"plugin"`
	Cache  string    `json:"cache"` // empty, warm, none (no cache in this system)
	Runs   []float64 `json:"runs_ms"`
	Err    string    `json:"error,omitempty"`
}

func (c coldStart) Median() float64 {
	if len(c.Runs) == 0 {
		return 0
	}
	r := slices.Clone(c.Runs)
	slices.Sort(r)
	return r[len(r)/2]
}

// withCache returns argv with the --cache-dir value replaced.
func withCache(argv []string, dir string) []string {
	out := slices.Clone(argv)
	for i := range out {
		if out[i] == "--cache-dir" && i+1 < len(out) {
			out[i+1] = dir
		}
	}
	return out
}

// startOnce starts argv, waits for the first 200 and returns the elapsed
// time, stopping the server afterwards.
func startOnce(ctx context.Context, name string, argv []string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	srv, err := startServer(name, argv, addr)
	if err != nil {
		return 0, err
	}
	defer srv.stop()
	at, err := srv.waitReady(ctx, 90*time.Second)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, srv.logTail())
	}
	return at.Sub(srv.started), nil
}

// measureColdStarts times native, the reference host and wasmcluster from
// command start to the first 200, for wasmcluster with an empty and then a
// warm compilation cache.
func measureColdStarts(ctx context.Context, cfg config, log *slog.Logger, systems []system) ([]coldStart, error) {
	var out []coldStart
	var errs []error
	for _, pn := range []string{"hello-wat", "hello-sdk"} {
		if !slices.Contains(cfg.plugins, pn) {
			continue
		}
		p := allPlugins[pn]
		for _, s := range systems {
			if s.name == "wc-1" || s.name == "wc-nointr" {
				continue // starts like wc-0 / wc-cores; not worth the time
			}
			if !s.wc {
				cs := coldStart{System: s.name, Plugin: p.name, Cache: "none"}
				for range cfg.coldRuns {
					d, err := startOnce(ctx, s.name, s.argv(p))
					if err != nil {
						cs.Err = firstLine(err.Error())
						errs = append(errs, fmt.Errorf("cold start %s/%s: %w", s.name, p.name, err))
						break
					}
					cs.Runs = append(cs.Runs, ms(d))
				}
				out = append(out, cs)
				continue
			}
			empty := coldStart{System: s.name, Plugin: p.name, Cache: "empty"}
			warm := coldStart{System: s.name, Plugin: p.name, Cache: "warm"}
			for range cfg.coldRuns {
				dir, err := os.MkdirTemp(cfg.out, "coldcache-")
				if err != nil {
					return out, fmt.Errorf("cold start cache dir: %w", err)
				}
				argv := withCache(s.argv(p), dir)
				d1, err1 := startOnce(ctx, s.name, argv)
				d2, err2 := startOnce(ctx, s.name, argv)
				os.RemoveAll(dir)
				if err := errors.Join(err1, err2); err != nil {
					empty.Err = firstLine(err.Error())
					errs = append(errs, fmt.Errorf("cold start %s/%s: %w", s.name, p.name, err))
					break
				}
				empty.Runs = append(empty.Runs, ms(d1))
				warm.Runs = append(warm.Runs, ms(d2))
			}
			log.Info("cold start", "plugin", p.name, "system", s.name, "empty_ms", empty.Median(), "warm_ms", warm.Median())
			out = append(out, empty, warm)
		}
	}
	return out, errors.Join(errs...)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// swapResult is one hot swap: file replaced → responses from the new
// version.
type swapResult struct {
	Plugin    string  `json:"plugin"`
	System    string  `json:"system"`
	FirstNew  float64 `json:"first_new_ms"` // first response from the new version
	AllNew    float64 `json:"all_new_ms"`   // last response from the old version (or first new, if later)
	Requests  int64   `json:"requests"`     // during the measurement
	Failed    int64   `json:"failed"`       // transport errors and non-200
	Completed bool    `json:"completed"`
	// Trigger is "write" (the file watcher noticed the rename) or
	// "write+SIGHUP" (no watcher in this build: the primary was signalled
	// right after the rename, so this times the roll alone).
	Trigger string `json:"trigger"`
}

// measureSwaps replaces the plugin file under a loaded wasmcluster and
// times until every response comes from the new version.
func measureSwaps(ctx context.Context, cfg config, log *slog.Logger) ([]swapResult, string, error) {
	sysName, workers := "wc-0", -1
	if cfg.workersArg {
		sysName, workers = "wc-cores", cfg.cores
	}
	var out []swapResult
	var errs []error
	var notes []string
	for _, kind := range cfg.swapKinds {
		r, note, err := swapSeries(ctx, cfg, log, kind, sysName, workers)
		out = append(out, r...)
		if err != nil {
			errs = append(errs, err)
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	return out, strings.Join(notes, " "), errors.Join(errs...)
}

func swapSeries(ctx context.Context, cfg config, log *slog.Logger, kind, sysName string, workers int) ([]swapResult, string, error) {
	v := func(n int) string { return filepath.Join(cfg.wasmDir, fmt.Sprintf("version-%s-v%d.wasm", kind, n)) }
	versions := [2][]byte{}
	for i := range versions {
		b, err := os.ReadFile(v(i + 1))
		if err != nil {
			return nil, "", fmt.Errorf("swap plugin: %w", err)
		}
		versions[i] = b
	}
	dir, err := os.MkdirTemp(cfg.out, "swap-")
	if err != nil {
		return nil, "", fmt.Errorf("swap dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.WriteFile(path, versions[0], 0o644); err != nil {
		return nil, "", fmt.Errorf("swap plugin: %w", err)
	}
	argv := []string{filepath.Join(cfg.binDir, "wasmcluster"), "serve", path, "--listen", "{addr}",
		"--cache-dir", filepath.Join(cfg.out, "cache"), "--log-level", "warn"}
	if workers >= 0 {
		argv = append(argv, "--workers", fmt.Sprint(workers))
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	srv, err := startServer(sysName, argv, addr)
	if err != nil {
		return nil, "", err
	}
	defer srv.stop()
	if _, err := srv.waitReady(ctx, 90*time.Second); err != nil {
		return nil, "", fmt.Errorf("swap %s: %w\n%s", kind, err, srv.logTail())
	}
	var out []swapResult
	hup := func() {} // after the write: nothing while the watcher works
	trigger := "write"
	for i := range cfg.swapRuns {
		next := (i + 1) % 2
		want := fmt.Sprintf("version v%d\n", next+1)
		r := swapOnce(ctx, addr, path, versions[next], want, cfg.swapWait, hup)
		r.Plugin, r.System, r.Trigger = "version-"+kind, sysName, trigger
		log.Info("swap", "plugin", r.Plugin, "trigger", trigger, "first_new_ms", r.FirstNew, "all_new_ms", r.AllNew, "failed", r.Failed, "completed", r.Completed)
		out = append(out, r)
		if r.Completed {
			continue
		}
		if trigger == "write" && r.FirstNew == 0 {
			// No watcher: roll with SIGHUP after each write from now on,
			// first back to the version the file now holds.
			trigger = "write+SIGHUP"
			pid := srv.cmd.Process.Pid
			hup = func() { syscall.Kill(pid, syscall.SIGHUP) }
			r = swapOnce(ctx, addr, path, versions[next], want, cfg.swapWait, hup)
			r.Plugin, r.System, r.Trigger = "version-"+kind, sysName, trigger
			log.Info("swap", "plugin", r.Plugin, "trigger", trigger, "first_new_ms", r.FirstNew, "all_new_ms", r.AllNew, "failed", r.Failed, "completed", r.Completed)
			out = append(out, r)
			if r.Completed {
				continue
			}
		}
		return out, fmt.Sprintf("hot swap not observed for %s: no response from the new version within %s of the file write (nor of SIGHUP)", r.Plugin, cfg.swapWait), nil
	}
	if trigger != "write" {
		return out, fmt.Sprintf("%s: the plugin file write alone changed nothing within %s (no file watcher in this build); swap rows marked write+SIGHUP time the roll after a SIGHUP sent right after the write.", "version-"+kind, cfg.swapWait), nil
	}
	return out, "", nil
}

// swapOnce keeps 4 clients busy, atomically replaces the plugin file and
// watches the versions answering. Requests are POSTs without GetBody so
// net/http never silently retries one that failed (DESIGN.md §5).
func swapOnce(ctx context.Context, addr, path string, code []byte, want string, wait time.Duration, after func()) swapResult {
	var (
		mu                sync.Mutex
		res               swapResult
		write             time.Time
		firstNew, lastOld time.Time
		stop              = make(chan struct{})
		wg                sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post("http://"+addr+"/", "text/plain", nil)
				now := time.Now()
				body := ""
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					body = string(b)
				}
				mu.Lock()
				res.Requests++
				switch {
				case err != nil || resp.StatusCode != http.StatusOK:
					res.Failed++
				case write.IsZero():
				case body == want:
					if firstNew.IsZero() {
						firstNew = now
					}
				default:
					lastOld = now
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	tmp := path + ".tmp"
	mu.Lock()
	write = time.Now()
	res.Requests, res.Failed = 0, 0
	mu.Unlock()
	if err := os.WriteFile(tmp, code, 0o644); err == nil {
		os.Rename(tmp, path)
	}
	after()
	deadline := write.Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		done := !firstNew.IsZero() && time.Since(firstNew) > time.Second && time.Since(lastOld) > time.Second
		mu.Unlock()
		if done {
			break
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if firstNew.IsZero() {
		return res
	}
	res.Completed = time.Since(lastOld) > time.Second
	res.FirstNew = ms(firstNew.Sub(write))
	all := firstNew
	if lastOld.After(all) {
		all = lastOld
	}
	res.AllNew = ms(all.Sub(write))
	return res
}

// instMemory is the RSS cost of one more live plugin instance: the same
// in-process server with pool sizes small and large, after load filled and
// exercised every instance.
type instMemory struct {
	Plugin     string  `json:"plugin"`
	SmallPool  int     `json:"small_pool"`
	LargePool  int     `json:"large_pool"`
	SmallKiB   int64   `json:"small_rss_kib"`
	LargeKiB   int64   `json:"large_rss_kib"`
	PerInstMiB float64 `json:"per_instance_mib"`
}

func measureInstanceMemory(ctx context.Context, cfg config, log *slog.Logger) ([]instMemory, error) {
	const small, large = 1, 17
	var out []instMemory
	var errs []error
	for _, pn := range cfg.plugins {
		p := allPlugins[pn]
		script := filepath.Join(cfg.out, "wrk-"+p.name+".lua")
		rss := func(pool int) (int64, error) {
			argv := []string{filepath.Join(cfg.binDir, "wasmcluster"), "serve", filepath.Join(cfg.wasmDir, p.wasm),
				"--listen", "{addr}", "--cache-dir", filepath.Join(cfg.out, "cache"), "--log-level", "warn",
				"--plugin-pool-size", fmt.Sprint(pool)}
			if cfg.workersArg {
				argv = append(argv, "--workers", "0")
			}
			addr, err := freeAddr()
			if err != nil {
				return 0, err
			}
			srv, err := startServer("wc-0", argv, addr)
			if err != nil {
				return 0, err
			}
			defer srv.stop()
			if _, err := srv.waitReady(ctx, 90*time.Second); err != nil {
				return 0, fmt.Errorf("%w\n%s", err, srv.logTail())
			}
			d := 2 * time.Second
			if cfg.quick {
				d = 500 * time.Millisecond
			}
			if _, outp, err := runWrk(ctx, cfg.wrk, script, "http://"+addr+"/", 64, d, cfg.cores); err != nil {
				return 0, fmt.Errorf("%w\n%s", err, outp)
			}
			return readRSS(srv.cmd.Process.Pid)
		}
		a, err1 := rss(small)
		b, err2 := rss(large)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("instance memory %s: %w", p.name, err))
			continue
		}
		im := instMemory{Plugin: p.name, SmallPool: small, LargePool: large, SmallKiB: a, LargeKiB: b,
			PerInstMiB: float64(b-a) / float64(large-small) / 1024}
		log.Info("instance memory", "plugin", p.name, "per_instance_mib", im.PerInstMiB)
		out = append(out, im)
	}
	return out, errors.Join(errs...)
}
