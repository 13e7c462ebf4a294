package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/bench/internal/echo"
	"github.com/wasmcluster/wasmcluster/bench/internal/native"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestKoaTwins checks that the Koa system (bench/koa, installed with
// `npm ci` from its lock file as bench/run.sh does) answers each plugin's
// request like the native handler over real HTTP: same status,
// content-type and body, and for echo the same JSON document (the Host
// header aside: the two listen on different ports).
func TestKoaTwins(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm ci and node; skipped with -short")
	}
	node, npm := testkit.Require(t, "node"), testkit.Require(t, "npm")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "server.js"} {
		b, err := os.ReadFile(filepath.Join("koa", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	install := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	for _, c := range []struct{ plugin, native string }{{"hello-wat", "hello-wat"}, {"hello-sdk", "hello-sdk"}, {"hello-raw", "hello-sdk"}, {"echo", "echo"}} {
		t.Run(c.plugin, func(t *testing.T) {
			koa := startKoa(t, node, dir, c.plugin)
			nh, err := native.Handler(c.native)
			if err != nil {
				t.Fatal(err)
			}
			nat := httptest.NewServer(nh)
			defer nat.Close()
			kc, kt, kb := fetch(t, koa, c.plugin)
			nc, nt, nb := fetch(t, nat.URL, c.plugin)
			if kc != nc || kt != nt {
				t.Errorf("koa %d %q, native %d %q", kc, kt, nc, nt)
			}
			if c.plugin != "echo" {
				if !bytes.Equal(kb, nb) {
					t.Errorf("body: koa %q, native %q", kb, nb)
				}
				return
			}
			var k, n echo.Reply
			if err := json.Unmarshal(kb, &k); err != nil {
				t.Fatalf("koa echo: %v: %s", err, kb)
			}
			if err := json.Unmarshal(nb, &n); err != nil {
				t.Fatalf("native echo: %v: %s", err, nb)
			}
			if k.Headers["host"] == nil || n.Headers["host"] == nil {
				t.Errorf("echo lost the host header: koa %v, native %v", k.Headers["host"], n.Headers["host"])
			}
			delete(k.Headers, "host")
			delete(n.Headers, "host")
			if !reflect.DeepEqual(k, n) {
				t.Errorf("echo differs:\nkoa    %+v\nnative %+v", k, n)
			}
		})
	}
}

// startKoa starts the Koa cluster for plugin and returns its base URL once
// it answers; the cluster (its own process group) is killed at cleanup.
func startKoa(t *testing.T, node, dir, plugin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(node, "server.js", "--listen", addr, "--plugin", plugin)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	url := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/"); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatalf("koa (%s) not answering on %s after 30s: %s", plugin, addr, stderr.String())
	return ""
}

// fetch sends plugin's benchmark request (benchRequest) to base over HTTP.
func fetch(t *testing.T, base, plugin string) (int, string, []byte) {
	t.Helper()
	r := benchRequest(plugin)
	var body io.Reader
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(r.Method, base+r.URL.RequestURI(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", r.Method, base, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}
