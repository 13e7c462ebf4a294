package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// testPrimaryConfig configures the test binary running as a primary.
type testPrimaryConfig struct {
	Workers  int    `json:"workers"`
	Control  string `json:"control"`
	AddrFile string `json:"addr_file"`
}

// runTestPrimary is the primary side of the process tests: real signal
// handling, exit code 0 on a graceful stop.
func runTestPrimary(cfgJSON string) int {
	var cfg testPrimaryConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	os.Unsetenv(testPrimaryEnv)
	err := RunPrimary(context.Background(), PrimaryOptions{
		Listen:            "127.0.0.1:0",
		Workers:           cfg.Workers,
		Spec:              testSpec("v1", testPluginConfig{}),
		Load:              loadTestPlugin,
		WorkerCommand:     []string{os.Args[0]},
		ControlPath:       cfg.Control,
		DrainTimeout:      10 * time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		Server:            httpserve.Options{IdleGrace: 300 * time.Millisecond},
		OnReady: func(a net.Addr) {
			os.WriteFile(cfg.AddrFile+".tmp", []byte(a.String()), 0o600)
			os.Rename(cfg.AddrFile+".tmp", cfg.AddrFile)
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "primary:", err)
		return 1
	}
	return 0
}

type primaryProc struct {
	cmd     *exec.Cmd
	addr    string
	control string
	done    chan error
}

// startPrimaryProcess runs the test binary as a primary and waits until
// its workers are ready.
func startPrimaryProcess(t *testing.T, workers int) *primaryProc {
	t.Helper()
	dir := testkit.SocketDir(t)
	cfg := testPrimaryConfig{Workers: workers, Control: dir + "/c.sock", AddrFile: dir + "/addr"}
	b, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), testPrimaryEnv+"="+string(b))
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &primaryProc{cmd: cmd, control: cfg.Control, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	testkit.WaitFor(t, 30*time.Second, "the primary process to serve", func() bool {
		a, err := os.ReadFile(cfg.AddrFile)
		p.addr = string(a)
		return err == nil
	})
	return p
}

func (p *primaryProc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("primary did not exit within %v", timeout)
		return nil
	}
}

func TestTermWaitsForInFlight(t *testing.T) {
	for _, workers := range []int{2, InProcess} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			p := startPrimaryProcess(t, workers)
			const n = 8
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := &http.Client{Timeout: 20 * time.Second}
					req, _ := testkit.StrictRequest(http.MethodPost, "http://"+p.addr+"/sleep?d=2s", "x")
					resp, err := c.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- fmt.Errorf("status %d", resp.StatusCode)
					}
				}()
			}
			testkit.WaitFor(t, 10*time.Second, "8 requests in flight", func() bool {
				st, err := control.QueryStatus(t.Context(), p.control)
				if err != nil {
					return false
				}
				var inFlight int64
				for _, w := range st.Workers {
					inFlight += w.InFlight
				}
				return inFlight == n
			})
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("in-flight request failed: %v", err)
			}
			if err := p.wait(t, 20*time.Second); err != nil {
				t.Fatalf("primary exit: %v", err)
			}
			if _, err := control.QueryStatus(t.Context(), p.control); !errors.Is(err, control.ErrNotRunning) {
				t.Errorf("status after stop = %v, want control.ErrNotRunning", err)
			}
		})
	}
}

func TestPrimaryKilledLeavesNoWorkers(t *testing.T) {
	p := startPrimaryProcess(t, 2)
	st, err := control.QueryStatus(t.Context(), p.control)
	if err != nil {
		t.Fatal(err)
	}
	pids := readyPIDs(*st)
	if len(pids) != 2 {
		t.Fatalf("workers: %+v", st.Workers)
	}
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	testkit.WaitFor(t, 15*time.Second, "workers gone", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}

// systemd socket activation: systemd-socket-activate binds the socket and
// execs the primary with LISTEN_FDS=1 on the first connection; the workers
// serve that connection from the inherited socket.
func TestSocketActivation(t *testing.T) {
	tool := testkit.Require(t, "systemd-socket-activate")
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	dir := testkit.SocketDir(t)
	cfg, _ := json.Marshal(testPrimaryConfig{Workers: 2, Control: dir + "/c.sock", AddrFile: dir + "/addr"})
	cmd := exec.Command(tool, "-l", addr, "-E", testPrimaryEnv+"="+string(cfg), os.Args[0])
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	var resp *http.Response
	testkit.WaitFor(t, 30*time.Second, "a request through the activated socket", func() bool {
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err = c.Get("http://" + addr + "/")
		return err == nil
	})
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Worker-Pid") == fmt.Sprint(cmd.Process.Pid) {
		t.Fatalf("answer %d from pid %s (primary is %d)", resp.StatusCode, resp.Header.Get("X-Worker-Pid"), cmd.Process.Pid)
	}
	var st *control.Status
	testkit.WaitFor(t, 20*time.Second, "2 ready workers", func() bool {
		st, err = control.QueryStatus(t.Context(), dir+"/c.sock")
		return err == nil && len(readyPIDs(*st)) == 2
	})
	if st.Listen != addr || st.PID != cmd.Process.Pid {
		t.Fatalf("status: %+v", st)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("primary exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("primary did not stop")
	}
}
