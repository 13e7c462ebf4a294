package workers

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestCgroupCPULimit(t *testing.T) {
	tests := []struct {
		name  string
		fs    fstest.MapFS
		want  int
		limit bool
	}{
		{"v2 no limit", fstest.MapFS{
			"proc/self/cgroup":                {Data: []byte("0::/app\n")},
			"sys/fs/cgroup/app/cpu.max":       {Data: []byte("max 100000\n")},
			"sys/fs/cgroup/cpu.max":           {Data: []byte("max 100000\n")},
			"sys/fs/cgroup/unrelated/cpu.max": {Data: []byte("100000 100000\n")},
		}, 0, false},
		{"v2 1.5 CPUs rounds up", fstest.MapFS{
			"proc/self/cgroup":          {Data: []byte("0::/app\n")},
			"sys/fs/cgroup/app/cpu.max": {Data: []byte("150000 100000\n")},
		}, 2, true},
		{"v2 parent is tighter", fstest.MapFS{
			"proc/self/cgroup":             {Data: []byte("0::/a/b\n")},
			"sys/fs/cgroup/a/b/cpu.max":    {Data: []byte("400000 100000\n")},
			"sys/fs/cgroup/a/cpu.max":      {Data: []byte("50000 100000\n")},
			"sys/fs/cgroup/a/b/cpu.weight": {Data: []byte("100\n")},
		}, 1, true},
		{"v1 quota", fstest.MapFS{
			"proc/self/cgroup": {Data: []byte("4:cpu,cpuacct:/docker/x\n3:memory:/docker/x\n")},
			"sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us":  {Data: []byte("300000\n")},
			"sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_period_us": {Data: []byte("100000\n")},
		}, 3, true},
		{"v1 unlimited", fstest.MapFS{
			"proc/self/cgroup":                            {Data: []byte("4:cpu,cpuacct:/\n")},
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  {Data: []byte("-1\n")},
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": {Data: []byte("100000\n")},
		}, 0, false},
		{"no cgroup file", fstest.MapFS{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cgroupCPULimit(tt.fs)
			if got != tt.want || ok != tt.limit {
				t.Errorf("cgroupCPULimit = %d, %v; want %d, %v", got, ok, tt.want, tt.limit)
			}
		})
	}
	if n := UsableCPUs(); n < 1 {
		t.Errorf("UsableCPUs = %d", n)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{}.withDefaults()
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000}
	for i, w := range want {
		if got := backoffDelay(b, i+1); got != w*time.Millisecond {
			t.Errorf("failure %d: delay %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	for range 1000 {
		if d := jitter(time.Second); d < 800*time.Millisecond || d >= 1200*time.Millisecond {
			t.Fatalf("jitter(1s) = %v, outside [0.8s, 1.2s)", d)
		}
	}
}

// The duplicate handed to workers must leave the socket non-blocking; the
// obvious (*TCPListener).File() does not (the bug DESIGN.md §5 warns about),
// which this test also checks so it would notice if Go changed.
func TestDupListenerKeepsNonblocking(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "unix:" + testkit.SocketDir(t) + "/l.sock"} {
		t.Run(addr, func(t *testing.T) {
			ln, err := Listen(addr)
			if err != nil {
				if strings.Contains(addr, "::1") {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			defer ln.Close()
			f, err := dupListener(ln)
			if err != nil {
				t.Fatal(err)
			}
			f.Fd() // what exec does with ExtraFiles
			f.Close()
			if nb, err := listenerNonblocking(ln); err != nil || !nb {
				t.Fatalf("after dupListener: nonblocking=%v err=%v", nb, err)
			}
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	f.Fd()
	defer f.Close()
	if nb, _ := listenerNonblocking(ln); nb {
		t.Log("(*TCPListener).File().Fd() no longer flips the socket to blocking mode")
	}
}

func TestRunWorkerByHand(t *testing.T) {
	if err := RunWorker(t.Context(), WorkerOptions{Load: loadTestPlugin}); err != ErrNotWorker {
		t.Fatalf("RunWorker outside a primary = %v, want ErrNotWorker", err)
	}
}

func TestRelayLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With(keyWorker, 3, keyPID, 42)
	relayLine(log, `{"time":"x","level":"WARN","msg":"guest said hi","worker":3,"n":7}`)
	relayLine(log, `goroutine 1 [running]:`)
	out := buf.String()
	for _, want := range []string{
		`"level":"WARN","msg":"guest said hi","worker":3,"pid":42,"n":7`,
		`"level":"INFO","msg":"goroutine 1 [running]:","worker":3,"pid":42,"stream":"stderr"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("relayed log missing %s\nin:\n%s", want, out)
		}
	}
}

func TestReasonLabel(t *testing.T) {
	for in, want := range map[string]string{
		"crash":                             "crash",
		"recycle max_rss":                   "recycle max_rss",
		"heartbeat timeout":                 "heartbeat timeout",
		"replaced (exit status 0)":          "replaced",
		"start canceled: superseded by new": "start canceled",
	} {
		if got := reasonLabel(in); got != want {
			t.Errorf("reasonLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
