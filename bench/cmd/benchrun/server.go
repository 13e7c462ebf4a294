package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one system under test, running as a child process.
type server struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	started time.Time
	stderr  *bytes.Buffer
	done    chan struct{}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts argv (with "{addr}" replaced) and returns at once.
func startServer(name string, argv []string, addr string) (*server, error) {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	// Own process group, so stop can reach workers even if the primary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &server{name: name, cmd: cmd, addr: addr, stderr: &stderr, done: make(chan struct{})}
	s.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	return s, nil
}

// waitReady polls GET / until a 200 arrives and returns when it did.
func (s *server) waitReady(ctx context.Context, limit time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/", nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		select {
		case <-s.done:
			return time.Time{}, fmt.Errorf("%s exited before ready: %s", s.name, s.cmd.ProcessState)
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s not ready after %s (last error %v): %w", s.name, limit, err, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM to the group, then SIGKILL after a grace period.
func (s *server) stop() error {
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("%s did not stop within 10s of SIGTERM; killed", s.name)
	}
	// Workers of a primary that exited must not outlive the run.
	syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// logTail is the end of the server's stderr, for error messages.
func (s *server) logTail() string {
	b := s.stderr.String()
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return b
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	l.w.Write(q)
	return len(p), nil
}

// procMem is the resident memory of one process of a system.
type procMem struct {
	Role   string `json:"role"` // primary, worker-1, ...
	PID    int    `json:"pid"`
	RSSKiB int64  `json:"rss_kib"`
}

// treeRSS reads VmRSS of pid and every descendant from /proc.
func treeRSS(pid int) ([]procMem, error) {
	rss, err := readRSS(pid)
	if err != nil {
		return nil, err
	}
	out := []procMem{{Role: "primary", PID: pid, RSSKiB: rss}}
	for i, c := range descendants(pid) {
		r, err := readRSS(c)
		if err != nil {
			continue // exited meanwhile
		}
		out = append(out, procMem{Role: "worker-" + strconv.Itoa(i+1), PID: c, RSSKiB: r})
	}
	return out, nil
}

func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("read rss: no VmRSS line")
}

// descendants lists every process below pid, scanning /proc for parents.
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields resume after its ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[p] = pp
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	sort.Ints(out)
	return out
}
