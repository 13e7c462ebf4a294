package embedded_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
	"github.com/wasmcluster/wasmcluster/kv/kvtest"
)

func start(t *testing.T, dir string, log *testkit.Buffer) *embedded.Server {
	t.Helper()
	o := embedded.Options{Dir: dir}
	if log != nil {
		o.Logger = slogTo(log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

func open(t testing.TB, cfg kv.Config) kv.Store {
	t.Helper()
	st, err := kvopen.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestConformance runs the suite against workers' stores: natskv over
// loopback TCP with the server's token.
func TestConformance(t *testing.T) {
	srv := start(t, t.TempDir(), nil)
	kvtest.Run(t, func(t *testing.T) kv.Store { return open(t, srv.WorkerConfig(kv.Config{})) })
}

// TestInProcess is --workers 0: a server with no port, a store connected
// in-process, sharing data with nothing else.
func TestInProcess(t *testing.T) {
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: t.TempDir(), NoListen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if srv.ClientURL() != "" {
		t.Fatalf("NoListen server has client URL %q", srv.ClientURL())
	}
	st := open(t, srv.InProcessConfig(kv.Config{}))
	defer st.Close()
	if st.Backend() != "embedded" {
		t.Fatalf("Backend() = %q", st.Backend())
	}
	if _, err := st.Set(ctx, []byte("k"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Incr(ctx, []byte("n"), 2, 0); err != nil || n != 2 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	if v, _, err := st.Get(ctx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

// TestRestart sets a key, stops the server, starts a new one on the same
// dir (with a new token), and reads it back: what a restart of wasmcluster
// or a roll of its workers does.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv := start(t, dir, nil)
	st := open(t, srv.WorkerConfig(kv.Config{}))
	rev, err := st.Set(ctx, []byte("survives"), []byte("yes"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Incr(ctx, []byte("visits"), 7, time.Hour); err != nil {
		t.Fatal(err)
	}
	st.Close()
	oldToken := srv.Token()
	srv.Shutdown()

	srv2 := start(t, dir, nil)
	if srv2.Token() == oldToken {
		t.Fatal("the token did not change across a restart")
	}
	st2 := open(t, srv2.WorkerConfig(kv.Config{}))
	defer st2.Close()
	v, got, err := st2.Get(ctx, []byte("survives"))
	if err != nil || string(v) != "yes" || got != rev {
		t.Fatalf("after restart: Get = %q rev %d, %v; want yes rev %d", v, got, err, rev)
	}
	if n, err := st2.Incr(ctx, []byte("visits"), 1, 0); err != nil || n != 8 {
		t.Fatalf("after restart: Incr = %d, %v; want 8", n, err)
	}
}

// TestCredentials: nothing connects without the token, a store with a
// wrong one reports unavailable, and the log never shows the token.
func TestCredentials(t *testing.T) {
	var log testkit.Buffer
	srv := start(t, t.TempDir(), &log)
	if !strings.HasPrefix(srv.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("ClientURL() = %q, want loopback", srv.ClientURL())
	}
	if _, err := nats.Connect(srv.ClientURL(), nats.Timeout(5*time.Second)); err == nil {
		t.Fatal("connected without the token")
	}
	if _, err := nats.Connect(srv.ClientURL(), nats.Token("wrong"), nats.Timeout(5*time.Second)); err == nil {
		t.Fatal("connected with a wrong token")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.Token(srv.Token()), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	nc.Close()

	cfg := srv.WorkerConfig(kv.Config{Timeout: 2 * time.Second})
	cfg.Token = "wrong"
	st := open(t, cfg) // opens: the store reports the problem, Open does not fail forever
	defer st.Close()
	if err := st.Health(context.Background()); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Health with a wrong token = %v, want ErrUnavailable", err)
	}
	if strings.Contains(log.String(), srv.Token()) {
		t.Fatal("the server's log shows the token")
	}
}

func TestBadDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root: a read-only dir is writable, testing a file in the way instead")
	}
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(parent, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(file, "kv")}
	if os.Geteuid() != 0 {
		dirs = append(dirs, ro, filepath.Join(ro, "kv"))
	}
	for _, dir := range dirs {
		_, err := embedded.Start(context.Background(), embedded.Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "kv.dir") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("Start(%q) = %v, want an error naming kv.dir and the dir", dir, err)
		}
	}
	if _, err := embedded.Start(context.Background(), embedded.Options{}); err == nil || !strings.Contains(err.Error(), "kv.dir") {
		t.Fatalf("Start with no dir = %v", err)
	}
}

// TestDirInUse: a second server on a dir in use is refused; once the first
// shuts down, the dir is free again.
func TestDirInUse(t *testing.T) {
	dir := t.TempDir()
	first, err := embedded.Start(context.Background(), embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = embedded.Start(context.Background(), embedded.Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "kv.dir") {
		first.Shutdown()
		t.Fatalf("second Start on %s = %v, want kv.dir in use", dir, err)
	}
	first.Shutdown()
	start(t, dir, nil)
}

func TestDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "kv")
	start(t, dir, nil)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("kv.dir mode = %v, want 0700", fi.Mode().Perm())
	}
}
