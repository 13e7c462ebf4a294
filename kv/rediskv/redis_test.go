package rediskv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/kvtest"
	"github.com/wasmcluster/wasmcluster/kv/rediskv"
)

// redisServer is a redis-server process the test started.
type redisServer struct {
	cmd  *exec.Cmd
	port int
}

// startRedis runs redis-server on 127.0.0.1:port, without persistence, and
// waits until it answers PING.
func startRedis(t testing.TB, port int) *redisServer {
	t.Helper()
	bin := testkit.Require(t, "redis-server")
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out testkit.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &redisServer{cmd: cmd, port: port}
	t.Cleanup(r.stop)
	testkit.Eventually(t, 20*time.Second, func() error {
		if cmd.ProcessState != nil {
			return fmt.Errorf("redis-server exited: %s", out.String())
		}
		return ping(port)
	})
	return r
}

func ping(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q, %v", line, err)
	}
	return nil
}

func (r *redisServer) stop() {
	if r.cmd.ProcessState == nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func open(t testing.TB, cfg kv.Config) *rediskv.Store {
	t.Helper()
	st, err := rediskv.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	r := startRedis(t, testkit.FreePort(t))
	kvtest.Run(t, func(t *testing.T) kv.Store {
		st := open(t, kv.Config{URL: r.url(), Bucket: "conformance"})
		if st.Backend() != "redis" {
			t.Fatalf("Backend() = %q", st.Backend())
		}
		return st
	})
}

// TestOutage: Open with the server down succeeds and the store reports
// unavailable; it recovers when the server starts, reports an outage again
// within its timeout when the server stops, and recovers when it is back
// on the same port.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	port := testkit.FreePort(t)
	st := open(t, kv.Config{URL: fmt.Sprintf("redis://127.0.0.1:%d", port), Timeout: time.Second})
	if err := st.Health(ctx); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Health with no server = %v, want ErrUnavailable", err)
	}
	r := startRedis(t, port)
	testkit.Eventually(t, 20*time.Second, func() error { return st.Health(ctx) })
	if _, err := st.Set(ctx, []byte("k"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	r.stop()
	for _, call := range []func() error{
		func() error { return st.Health(ctx) },
		func() error { _, _, err := st.Get(ctx, []byte("k")); return err },
		func() error { _, err := st.Incr(ctx, []byte("n"), 1, 0); return err },
		func() error { _, _, err := st.Keys(ctx, nil, nil, 10); return err },
	} {
		if err := call(); !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("during the outage: %v, want ErrUnavailable", err)
		}
	}
	startRedis(t, port)
	testkit.Eventually(t, 20*time.Second, func() error { return st.Health(ctx) })
	if n, err := st.Incr(ctx, []byte("n"), 1, 0); err != nil || n != 1 {
		t.Fatalf("after the outage: Incr = %d, %v", n, err)
	}
}

// TestSlowServer: a server that accepts but never answers is
// ErrUnavailable within the timeout, not a hang.
func TestSlowServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	st := open(t, kv.Config{URL: "redis://" + ln.Addr().String(), Timeout: 300 * time.Millisecond})
	if _, _, err := st.Get(context.Background(), []byte("k")); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Get from a silent server = %v, want ErrUnavailable", err)
	}
}

func TestBadURL(t *testing.T) {
	_, err := rediskv.Open(context.Background(), kv.Config{URL: "redis://:s3cret@127.0.0.1:1/notadb"})
	if err == nil || !strings.Contains(err.Error(), "kv.url") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open with a bad db = %v, want an error naming kv.url without the password", err)
	}
}
