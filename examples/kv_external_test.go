package examples_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
)

// Two instances on two ports stand in for two machines: with one external
// store behind both, a session started on A goes on on B.

// startRedis runs redis-server on port, without persistence, until the
// test ends, and waits until it answers.
func startRedis(t *testing.T, port int) {
	bin := testkit.Require(t, "redis-server")
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	testkit.Launch(t, cmd)
	testkit.WaitFor(t, 10*time.Second, "redis-server to accept connections", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

var adminRe = regexp.MustCompile(`"msg":"admin listening","addr":"([^"]+)"`)

// adminURL is the admin listener's base URL from the server's log.
func adminURL(t *testing.T, srv *testkit.Server) string {
	srv.WaitLog(`"msg":"admin listening"`)
	m := adminRe.FindStringSubmatch(srv.Log.String())
	if m == nil {
		t.Fatalf("no admin address in the log:\n%s", srv.Log)
	}
	return "http://" + m[1]
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Redis: an instance started while its store is unreachable serves, is
// unready until the store answers, then ready; a session started on A goes
// on on B; status and /metrics show the backend and the calls.
func TestSessionsSharedThroughRedis(t *testing.T) {
	wasm := example(t, "sessions")
	port := testkit.FreePort(t)
	url := fmt.Sprintf("redis://127.0.0.1:%d", port)
	a := serveKVAdmin(t, wasm, "--kv-url", url)
	admin := adminURL(t, a)
	if code, body := get(t, admin+"/readyz"); code != 503 || !strings.Contains(body, "kv store (redis) unavailable") {
		t.Errorf("/readyz with redis down: %d %s", code, body)
	}
	startRedis(t, port)
	testkit.WaitFor(t, 20*time.Second, "/readyz 200 once redis answers", func() bool {
		code, _ := get(t, admin+"/readyz")
		return code == 200
	})
	b := serveKV(t, wasm, 1, "--kv-url", url)
	c := jarClient(t)
	for i, base := range []string{a.URL(), a.URL(), b.URL(), a.URL(), b.URL()} {
		if got, want := visit(t, c, base), fmt.Sprintf("visits: %d\n", i+1); got != want {
			t.Fatalf("visit %d on %s: %q, want %q", i+1, base, got, want)
		}
	}
	// Workers report their counters with each heartbeat (every second).
	wants := []string{`wasmcluster_kv_up{backend="redis"} 1`, `wasmcluster_kv_ops_total{op="get",result="ok"}`,
		`wasmcluster_kv_ops_total{op="cas",result="ok"}`, `wasmcluster_kv_op_duration_seconds_count{op="get"}`}
	var metrics string
	testkit.WaitFor(t, 15*time.Second, "the store's series in /metrics", func() bool {
		_, metrics = get(t, admin+"/metrics")
		for _, want := range wants {
			if !strings.Contains(metrics, want) {
				return false
			}
		}
		return true
	})
}

// serveKVAdmin is serveKV with one worker and an admin listener on a free
// port.
func serveKVAdmin(t *testing.T, wasm string, extra ...string) *testkit.Server {
	t.Helper()
	return serveKV(t, wasm, 1, append([]string{"--admin", "127.0.0.1:0"}, extra...)...)
}

// NATS: a NATS server with JetStream, started in the test process and
// reached over TCP with a token, behind two instances.
func TestSessionsSharedThroughNATS(t *testing.T) {
	wasm := example(t, "sessions")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	token := testkit.TempFile(t, "nats.token", []byte(srv.Token()+"\n"))
	flags := []string{"--kv-url", srv.ClientURL(), "--kv-token-file", token}
	sock := filepath.Join(t.TempDir(), "control.sock")
	a, b := serveKV(t, wasm, 1, append(flags, "--control", sock)...), serveKV(t, wasm, 2, flags...)
	c := jarClient(t)
	for i, base := range []string{a.URL(), b.URL(), b.URL(), a.URL()} {
		if got, want := visit(t, c, base), fmt.Sprintf("visits: %d\n", i+1); got != want {
			t.Fatalf("visit %d on %s: %q, want %q", i+1, base, got, want)
		}
	}
	if strings.Contains(a.Log.String(), srv.Token()) || strings.Contains(b.Log.String(), srv.Token()) {
		t.Error("the NATS token is in a log")
	}
	// `wasmcluster status`: the backend, its health and the calls (which
	// workers report with each heartbeat, every second).
	var out string
	deadline := time.Now().Add(15 * time.Second)
	for {
		cmd := exec.Command(testkit.Wasmcluster(t), "status", "--control", sock)
		cmd.Env = testkit.Env(t)
		var code int
		out, _, code = testkit.Run(t, cmd)
		if code == 0 && strings.Contains(out, "kv store: nats, healthy") && strings.Contains(out, "kv cas: ok ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status does not show the store and its calls within 15s:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
