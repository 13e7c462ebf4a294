package main

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// A real unix datagram NOTIFY_SOCKET sees READY, RELOADING, READY and
// STOPPING in that order across start, SIGHUP and SIGTERM, with watchdog
// pings in between.
func TestSystemdNotify(t *testing.T) {
	plugin := wat(t, "hello")
	path := filepath.Join(testkit.SocketDir(t), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	// next waits for a datagram carrying want, collecting what passes by.
	var seen []string
	watchdogs := 0
	next := func(want string) string {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("notify socket closed waiting for %s; seen %q", want, seen)
				}
				if strings.Contains(m, "WATCHDOG=1") {
					watchdogs++
					continue
				}
				seen = append(seen, m)
				if strings.Contains(m, want+"\n") {
					return m
				}
				for _, bad := range []string{"READY=1", "RELOADING=1", "STOPPING=1"} {
					if bad != want && strings.Contains(m, bad+"\n") {
						t.Fatalf("got %q while waiting for %s; seen %q", m, want, seen)
					}
				}
			case <-deadline:
				t.Fatalf("no %s within 20 s; seen %q", want, seen)
			}
		}
	}
	s := startServe(t, []string{"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=200000"},
		plugin, "--listen", "127.0.0.1:0", "--workers", "2", "--control", "-")
	m := next("READY=1")
	if !strings.Contains(m, "STATUS=serving") || !strings.Contains(m, "2/2 workers ready") || !strings.Contains(m, "MAINPID=") {
		t.Errorf("READY datagram: %q", m)
	}
	s.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	if m := next("READY=1"); !strings.Contains(m, "2/2 workers ready") {
		t.Errorf("READY after reload: %q", m)
	}
	s.Signal(syscall.SIGTERM)
	next("STOPPING=1")
	if code := s.Wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if watchdogs == 0 {
		t.Errorf("no WATCHDOG=1 ping with WATCHDOG_USEC=200000; seen %q", seen)
	}
}
