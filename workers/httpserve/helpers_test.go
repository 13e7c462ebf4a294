package httpserve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPlugin: "/sleep?d=2s" sleeps; the body is its version.
type testPlugin struct{ version string }

func (p *testPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if d, err := time.ParseDuration(r.URL.Query().Get("d")); err == nil && strings.HasPrefix(r.URL.Path, "/sleep") {
		time.Sleep(d)
	}
	fmt.Fprint(w, p.version)
}

func (p *testPlugin) Close(context.Context) error { return nil }

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// shareListener is a second listener on ln's socket, as a worker inherits
// it: a dup made without Fd(), which would make the socket blocking.
func shareListener(t *testing.T, ln net.Listener) net.Listener {
	t.Helper()
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var dup int
	var derr error
	rc.Control(func(fd uintptr) { dup, derr = syscall.Dup(int(fd)) })
	if derr != nil {
		t.Fatal(derr)
	}
	f := os.NewFile(uintptr(dup), "shared")
	defer f.Close()
	ln2, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return ln2
}
