package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	out        string // results directory
	binDir     string // wasmcluster, native, refhost
	wasmDir    string // hello-wat.wasm, hello-sdk.wasm, echo.wasm, version-*.wasm
	wrk        string
	duration   time.Duration
	warmup     time.Duration
	conns      []int
	plugins    []string
	systems    []string
	rounds     int
	memConns   int // load point at which RSS under load is sampled
	coldRuns   int
	swapRuns   int
	swapKinds  []string
	swapWait   time.Duration
	instMem    bool
	quick      bool
	command    string // how the run was started, for the report
	commit     string // source revision, for the report
	koaDir     string // bench/koa with node_modules installed (system koa)
	abBin      string // a second wasmcluster binary measured as system wc-ab
	abLabel    string
	reportOnly bool // rewrite results.md and chart.png from results.json
	workersArg bool // wasmcluster serve has --workers
	cores      int
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.reportOnly {
		return rewriteReport(cfg)
	}
	res, err := measure(ctx, cfg, log)
	if werr := writeReport(cfg, res); werr != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", werr)
		return 1
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.StringVar(&cfg.out, "out", "bench/out", "results directory")
	fs.StringVar(&cfg.binDir, "bin", "", "directory with the wasmcluster, native and refhost binaries")
	fs.StringVar(&cfg.wasmDir, "wasm", "", "directory with the benchmark plugins")
	fs.StringVar(&cfg.wrk, "wrk", "wrk", "wrk binary")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each load point (whole seconds)")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "load before the first point of each system")
	conns := fs.String("conns", "1,16,64,256", "connection counts")
	plugins := fs.String("plugins", "hello-wat,hello-raw,hello-sdk,echo", "plugins to load")
	systems := fs.String("systems", "native,refhost,koa,wc-cores,wc-nointr,wc-1,wc-0", "systems to measure")
	fs.IntVar(&cfg.rounds, "rounds", 1, "rounds over every system at each connection count; a point keeps the median round")
	fs.IntVar(&cfg.memConns, "mem-conns", 64, "sample RSS under load at this connection count (or the nearest below)")
	fs.IntVar(&cfg.coldRuns, "cold-runs", 3, "cold-start repetitions (0 skips)")
	fs.IntVar(&cfg.swapRuns, "swap-runs", 3, "hot-swap repetitions (0 skips)")
	swapKinds := fs.String("swap-kinds", "wat,go", "hot-swap guests: wat (version-wat-v*.wasm), go (version-go-v*.wasm)")
	fs.DurationVar(&cfg.swapWait, "swap-wait", 15*time.Second, "how long to wait for the new version after a plugin write")
	fs.BoolVar(&cfg.instMem, "inst-mem", true, "measure memory per plugin instance")
	fs.BoolVar(&cfg.quick, "quick", false, "harness check: results are not meaningful")
	fs.BoolVar(&cfg.reportOnly, "report-only", false, "only rewrite results.md and chart.png in -out from its results.json")
	fs.StringVar(&cfg.command, "command", "", "command line recorded in the report")
	fs.StringVar(&cfg.commit, "commit", "", "source revision recorded in the report")
	fs.StringVar(&cfg.koaDir, "koa", "", "directory of the Koa app (bench/koa, after npm ci), for system koa")
	fs.StringVar(&cfg.abBin, "ab-bin", "", "another wasmcluster binary (e.g. with a candidate fix), measured as system wc-ab with --workers = cores")
	fs.StringVar(&cfg.abLabel, "ab-label", "wasmcluster A/B build", "label of the wc-ab system in the report")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.rounds < 1 {
		cfg.rounds = 1
	}
	if !cfg.reportOnly && (cfg.binDir == "" || cfg.wasmDir == "") {
		return cfg, fmt.Errorf("-bin and -wasm are required")
	}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("bad -conns entry %q", c)
		}
		cfg.conns = append(cfg.conns, n)
	}
	cfg.plugins = splitList(*plugins)
	cfg.systems = splitList(*systems)
	cfg.swapKinds = splitList(*swapKinds)
	cfg.cores = runtime.NumCPU()
	if !cfg.reportOnly {
		help, _ := exec.Command(filepath.Join(cfg.binDir, "wasmcluster"), "serve", "--help").CombinedOutput()
		cfg.workersArg = strings.Contains(string(help), "--workers")
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return cfg, fmt.Errorf("create out dir: %w", err)
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// plugin describes one benchmark plugin.
type plugin struct {
	name   string
	wasm   string // file in wasmDir
	native string // native -plugin mode
	post   bool   // echo request mix
	title  string
}

var allPlugins = map[string]plugin{
	"hello-wat": {name: "hello-wat", wasm: "hello-wat.wasm", native: "hello-wat", title: "WAT hello"},
	"hello-raw": {name: "hello-raw", wasm: "hello-raw.wasm", native: "hello-sdk", title: "raw-ABI Go hello"},
	"hello-sdk": {name: "hello-sdk", wasm: "hello-sdk.wasm", native: "hello-sdk", title: "SDK Go hello"},
	"echo":      {name: "echo", wasm: "echo.wasm", native: "echo", post: true, title: "JSON echo (4 KiB body)"},
}

// system is one way of serving a plugin.
type system struct {
	name  string
	label string
	argv  func(p plugin) []string
	wc    bool // wasmcluster: ratios are computed for it
}

// systemsFor resolves the -systems names into commands.
func systemsFor(cfg config) ([]system, error) {
	bin := func(n string) string { return filepath.Join(cfg.binDir, n) }
	wasm := func(p plugin) string { return filepath.Join(cfg.wasmDir, p.wasm) }
	cache := filepath.Join(cfg.out, "cache")
	wcBin := bin("wasmcluster")
	wc := func(workers int) func(p plugin) []string {
		return func(p plugin) []string {
			argv := []string{wcBin, "serve", wasm(p), "--listen", "{addr}",
				"--cache-dir", cache, "--log-level", "warn"}
			if workers >= 0 && cfg.workersArg {
				argv = append(argv, "--workers", strconv.Itoa(workers))
			}
			return argv
		}
	}
	var out []system
	for _, n := range cfg.systems {
		switch n {
		case "native":
			out = append(out, system{name: n, label: "native net/http", argv: func(p plugin) []string {
				return []string{bin("native"), "-listen", "{addr}", "-plugin", p.native}
			}})
		case "refhost":
			out = append(out, system{name: n, label: "reference host", argv: func(p plugin) []string {
				return []string{bin("refhost"), "-listen", "{addr}", wasm(p)}
			}})
		case "wc-cores", "wc-1", "wc-0":
			if !cfg.workersArg {
				if n != "wc-0" {
					continue // no --workers yet: only the in-process server exists
				}
				out = append(out, system{name: n, label: "wasmcluster (in-process)", argv: wc(-1), wc: true})
				continue
			}
			w := cfg.cores
			if n == "wc-1" {
				w = 1
			} else if n == "wc-0" {
				w = 0
			}
			label := fmt.Sprintf("wasmcluster --workers %d", w)
			if n == "wc-cores" {
				label += " (cores)"
			}
			out = append(out, system{name: n, label: label, argv: wc(w), wc: true})
		case "wc-nointr":
			// The speed setting: no compiled-in interruption (see
			// RATIONALE.md, "Why interrupt guests on deadline").
			if !cfg.workersArg {
				continue
			}
			out = append(out, system{name: n, label: fmt.Sprintf("wasmcluster --workers %d, plugin.interrupt=false", cfg.cores), wc: true,
				argv: func(p plugin) []string { return append(wc(cfg.cores)(p), "--plugin-interrupt=false") }})
		case "koa":
			// The seed's stack: Koa under node:cluster, one worker per CPU.
			if cfg.koaDir == "" {
				return nil, fmt.Errorf("system koa needs -koa (bench/koa after npm ci)")
			}
			script := filepath.Join(cfg.koaDir, "server.js")
			out = append(out, system{name: n, label: fmt.Sprintf("Koa + node:cluster (%d workers)", cfg.cores), argv: func(p plugin) []string {
				return []string{"node", script, "--listen", "{addr}", "--plugin", p.name}
			}})
		case "wc-ab":
			if cfg.abBin == "" {
				return nil, fmt.Errorf("system wc-ab needs -ab-bin")
			}
			abBin := cfg.abBin
			out = append(out, system{name: n, label: fmt.Sprintf("%s --workers %d", cfg.abLabel, cfg.cores), wc: true,
				argv: func(p plugin) []string {
					argv := wc(cfg.cores)(p)
					argv[0] = abBin
					return argv
				}})
		default:
			return nil, fmt.Errorf("unknown system %q", n)
		}
	}
	return out, nil
}

// rewriteReport renders results.md and chart.png again from results.json,
// taking the run's settings from the file rather than from flags.
func rewriteReport(cfg config) int {
	b, err := os.ReadFile(filepath.Join(cfg.out, "results.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun: results.json:", err)
		return 1
	}
	c := res.Config
	if d, err := time.ParseDuration(fmt.Sprint(c["duration"])); err == nil {
		cfg.duration = d
	}
	if d, err := time.ParseDuration(fmt.Sprint(c["warmup"])); err == nil {
		cfg.warmup = d
	}
	cfg.conns = cfg.conns[:0]
	for _, v := range asList(c["conns"]) {
		if n, err := strconv.Atoi(v); err == nil {
			cfg.conns = append(cfg.conns, n)
		}
	}
	cfg.plugins = asList(c["plugins"])
	cfg.command, _ = c["command"].(string)
	cfg.commit, _ = c["commit"].(string)
	cfg.quick, _ = c["quick"].(bool)
	if r, ok := c["rounds"].(float64); ok {
		cfg.rounds = int(r)
	}
	cfg.cores = res.Machine.CPUs
	if err := writeReport(cfg, &res); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	return 0
}

func asList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}
