package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// The test binary doubles as the worker (and, for the tests that kill or
// signal the primary, as the primary), hashicorp/go-plugin style.
const testPrimaryEnv = "WASMCLUSTER_TEST_PRIMARY" // JSON testPrimaryConfig

func TestMain(m *testing.M) {
	if IsWorkerProcess() {
		err := RunWorker(context.Background(), WorkerOptions{Load: loadTestPlugin})
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if cfg := os.Getenv(testPrimaryEnv); cfg != "" {
		os.Exit(runTestPrimary(cfg))
	}
	os.Exit(m.Run())
}

// testPluginConfig is Spec.Config for the test plugin.
type testPluginConfig struct {
	FailLoad   bool          `json:"fail_load,omitempty"`
	SelfTest   int           `json:"self_test_status,omitempty"` // status answered to the self-test
	CrashAfter time.Duration `json:"crash_after,omitempty"`      // exit(3) this long after load
	CloseDelay time.Duration `json:"close_delay,omitempty"`      // Close takes this long (a slow drain)
}

// testPlugin: "/sleep?d=2s" sleeps; every answer carries the worker's pid
// and version; the body is "<version> <pid>".
type testPlugin struct {
	version string
	cfg     testPluginConfig
}

func loadTestPlugin(ctx context.Context, spec Spec) (httpserve.Plugin, error) {
	var cfg testPluginConfig
	if len(spec.Config) > 0 {
		if err := json.Unmarshal(spec.Config, &cfg); err != nil {
			return nil, fmt.Errorf("test plugin config: %w", err)
		}
	}
	if cfg.FailLoad {
		return nil, fmt.Errorf("test plugin told to fail")
	}
	if cfg.CrashAfter > 0 {
		time.AfterFunc(cfg.CrashAfter, func() { os.Exit(3) })
	}
	slog.Info("test plugin loaded", "version", spec.Version)
	return &testPlugin{version: spec.Version, cfg: cfg}, nil
}

func (p *testPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == "wasmcluster-self-test" && p.cfg.SelfTest != 0 {
		w.WriteHeader(p.cfg.SelfTest)
		return
	}
	io.Copy(io.Discard, r.Body)
	if d, err := time.ParseDuration(r.URL.Query().Get("d")); err == nil && strings.HasPrefix(r.URL.Path, "/sleep") {
		time.Sleep(d)
	}
	w.Header().Set("X-Worker-Pid", fmt.Sprint(os.Getpid()))
	w.Header().Set("X-Version", p.version)
	fmt.Fprintf(w, "%s %d", p.version, os.Getpid())
}

func (p *testPlugin) Close(context.Context) error {
	time.Sleep(p.cfg.CloseDelay)
	return nil
}

func testSpec(version string, cfg testPluginConfig) Spec {
	b, _ := json.Marshal(cfg)
	return Spec{Version: version, Config: b}
}

// testLogger logs to stderr with -v, else nowhere.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// baseOptions: the test binary as worker, quick timeouts, no signals.
func baseOptions(t testing.TB, workers int) PrimaryOptions {
	return PrimaryOptions{
		Listen:            "127.0.0.1:0",
		Workers:           workers,
		Spec:              testSpec("v1", testPluginConfig{}),
		WorkerCommand:     []string{os.Args[0]},
		ControlPath:       testkit.SocketDir(t) + "/c.sock",
		DrainTimeout:      10 * time.Second,
		StartTimeout:      20 * time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		HeartbeatTimeout:  5 * time.Second,
		IgnoreSignals:     true,
		Logger:            testLogger(),
		Server:            httpserve.Options{IdleGrace: 300 * time.Millisecond, SelfTestPath: "/"},
	}
}

// startPrimary runs a primary in this process until the test ends and
// waits for all its workers to be ready.
func startPrimary(t testing.TB, opts PrimaryOptions) *Primary {
	t.Helper()
	ready := make(chan struct{})
	opts.OnReady = func(net.Addr) { close(ready) }
	pr, err := NewPrimary(opts)
	if err != nil {
		t.Fatal(err)
	}
	testkit.StartFunc(t, "primary", ready, pr.Run)
	return pr
}

// readyPIDs returns the pids of ready workers.
func readyPIDs(st control.Status) []int {
	var pids []int
	for _, w := range st.Workers {
		if w.State == string(stateReady) {
			pids = append(pids, w.PID)
		}
	}
	return pids
}
