package examples_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins/gobuild"
)

func TestHello(t *testing.T) {
	forEachTarget(t, "hello", "", func(t *testing.T, base, _ string) {
		resp, body := do(t, "GET", base+"/anything", "")
		if resp.StatusCode != 200 || body != "hello from wasm\n" || !strings.HasPrefix(resp.Header.Get("content-type"), "text/plain") {
			t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

// `wasmcluster serve DIR` builds a source directory (Go, C with the
// embedded header, Rust with Debian's rustc) and serves it.
func TestServeSourceDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	for _, tt := range []struct{ dir, want string }{
		{"hello", "hello from wasm\n"},
		{"hello-c", "hello from c\n"},
		{"hello-rust", "hello from rust\n"},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			example(t, tt.dir) // warms the Go build cache; skips without the toolchain
			base := serveBinary(t, "./"+tt.dir, "", upstream(t).URL)
			resp, body := do(t, "GET", base+"/", "")
			if resp.StatusCode != 200 || body != tt.want {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestWATHello(t *testing.T) {
	forEachTarget(t, "wat-hello", "", func(t *testing.T, base, _ string) {
		resp, body := do(t, "GET", base+"/", "")
		if resp.StatusCode != 200 || body != "hello from wat\n" || resp.Header.Get("content-type") != "text/plain; charset=utf-8" {
			t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

// The C example, built from source with clang: its two routes, the
// buffer rule at work on a header too long for its buffer.
func TestCHello(t *testing.T) {
	forEachTarget(t, "hello-c", "", func(t *testing.T, base, _ string) { checkAgentRoutes(t, base, "c") })
}

// The Rust example (no_std), built from source with Debian's rustc: the
// same routes as the C one.
func TestRustHello(t *testing.T) {
	forEachTarget(t, "hello-rust", "", func(t *testing.T, base, _ string) { checkAgentRoutes(t, base, "rust") })
}

// checkAgentRoutes checks the routes of hello-c and hello-rust: "/" says
// hello from lang, "/agent" echoes the User-Agent (431 when longer than
// the guest's buffer, 400 without one), anything else is a 404.
func checkAgentRoutes(t *testing.T, base, lang string) {
	t.Helper()
	long := strings.Repeat("x", 600)
	for _, tt := range []struct {
		path, agent string
		status      int
		want        string
	}{
		{"/", "", 200, "hello from " + lang + "\n"},
		{"/?q=1", "", 200, "hello from " + lang + "\n"},
		{"/agent", "curl/8.0 (x86_64)", 200, "your user-agent: curl/8.0 (x86_64)\n"},
		{"/agent", long, 431, "User-Agent too long\n"},
		{"/nope", "", 404, "not found\n"},
	} {
		resp, body := do(t, "GET", base+tt.path, "", "User-Agent", tt.agent)
		if resp.StatusCode != tt.status || body != tt.want || resp.Header.Get("content-type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s (agent %.20q): got %d %q %v, want %d %q", tt.path, tt.agent, resp.StatusCode, body, resp.Header, tt.status, tt.want)
		}
	}
	// An empty User-Agent makes Go's client send none.
	req, _ := http.NewRequest("GET", base+"/agent", nil)
	req.Header.Set("User-Agent", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("no User-Agent: got %d, want 400", resp.StatusCode)
	}
}

func TestEcho(t *testing.T) {
	forEachTarget(t, "echo", "", func(t *testing.T, base, _ string) {
		resp, body := do(t, "PUT", base+"/some/path?q=a%26b", "request body", "X-Custom", "v1")
		if resp.StatusCode != 200 || resp.Header.Get("content-type") != "application/json" {
			t.Fatalf("got %d %v %q", resp.StatusCode, resp.Header, body)
		}
		var e struct {
			M       string              `json:"method"`
			U       string              `json:"uri"`
			P       string              `json:"proto"`
			A       string              `json:"remote_addr"`
			Headers map[string][]string `json:"headers"`
			Body    string              `json:"body"`
			BodyLen int64               `json:"body_len"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("%v in %q", err, body)
		}
		if e.M != "PUT" || e.U != "/some/path?q=a%26b" || e.P != "HTTP/1.1" || !strings.HasPrefix(e.A, "127.0.0.1:") {
			t.Errorf("request line: %+v", e)
		}
		if got := e.Headers["x-custom"]; len(got) != 1 || got[0] != "v1" {
			t.Errorf("x-custom = %v in %v", got, e.Headers)
		}
		if e.Body != "request body" || e.BodyLen != 12 {
			t.Errorf("body %q (%d)", e.Body, e.BodyLen)
		}
	})
}

func TestRouter(t *testing.T) {
	forEachTarget(t, "router", "", func(t *testing.T, base, _ string) {
		tests := []struct {
			method, path, body string
			status             int
			want               string // body prefix
		}{
			{"GET", "/users/42", "", 200, `{"id":"42"}`},
			{"GET", "/files/a/b.txt", "", 200, "file a/b.txt\n"},
			{"POST", "/upper", "shout", 200, "SHOUT"},
			{"GET", "/", "", 200, "try /users/42"},
			{"GET", "/nope", "", 404, "404 page not found"},
			{"DELETE", "/users/42", "", 405, "Method Not Allowed"},
			{"GET", "/api/v1/things?x=1", "", 200, "upstream got GET /api/v1/things?x=1"},
		}
		for _, tt := range tests {
			resp, body := do(t, tt.method, base+tt.path, tt.body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(body, tt.want) {
				t.Errorf("%s %s: got %d %q, want %d %q...", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.want)
			}
		}
		resp, _ := do(t, "GET", base+"/users/1", "")
		if resp.Header.Get("content-type") != "application/json" {
			t.Errorf("content-type %q", resp.Header.Get("content-type"))
		}
	})
}

func TestAuthMiddleware(t *testing.T) {
	forEachTarget(t, "auth-middleware", "s3cret", func(t *testing.T, base, _ string) {
		for _, auth := range []string{"", "Bearer wrong", "Basic s3cret", "Bearer s3cret2"} {
			resp, body := do(t, "GET", base+"/private", "", "Authorization", auth)
			if resp.StatusCode != 401 || body != "unauthorized\n" || !strings.HasPrefix(resp.Header.Get("www-authenticate"), "Bearer") {
				t.Errorf("auth %q: got %d %q %v", auth, resp.StatusCode, body, resp.Header)
			}
			if resp.Header.Get("x-upstream") != "" {
				t.Errorf("auth %q reached the upstream", auth)
			}
		}
		resp, body := do(t, "GET", base+"/private?x=1", "", "Authorization", "Bearer s3cret")
		if resp.StatusCode != 200 || body != "upstream got GET /private?x=1 authorization=\"\"\n" {
			t.Errorf("valid token: got %d %q", resp.StatusCode, body)
		}
		// A browser's WebSocket cannot set headers: ?token= works too, and
		// does not travel on.
		resp, body = do(t, "GET", base+"/ws?token=s3cret&x=1", "")
		if resp.StatusCode != 200 || body != "upstream got GET /ws?x=1 authorization=\"\"\n" {
			t.Errorf("token in the query: got %d %q", resp.StatusCode, body)
		}
		if resp, _ := do(t, "GET", base+"/ws?token=wrong", ""); resp.StatusCode != 401 {
			t.Errorf("wrong token in the query: got %d, want 401", resp.StatusCode)
		}
	})
	t.Run("unconfigured", func(t *testing.T) {
		base := serveHost(t, example(t, "auth-middleware"), "", upstream(t).URL)
		resp, _ := do(t, "GET", base+"/", "", "Authorization", "Bearer ")
		if resp.StatusCode != 500 {
			t.Errorf("no token configured: got %d, want 500", resp.StatusCode)
		}
	})
}

// `wasmcluster build` produces the same module as the library, and
// `wasmcluster build` of a broken package prints the compiler's error.
func TestBuildCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lib, err := gobuild.Build(ctx, "hello", gobuild.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(lib.Path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hello.wasm")
	cmd := exec.Command(testkit.Wasmcluster(t), "build", "./hello", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "wrote "+out) {
		t.Fatalf("wasmcluster build: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("wasmcluster build output (%d bytes) differs from gobuild's (%d bytes)", len(got), len(want))
	}

	// Not a package directory: a usage error (exit 2).
	b, err := exec.Command(testkit.Wasmcluster(t), "build", "README.md").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(b), "build README.md: not a directory") {
		t.Errorf("build README.md: err %v, output:\n%s", err, b)
	}

	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module broken\n\ngo 1.24\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	cmd = exec.Command(testkit.Wasmcluster(t), "build", broken, "-o", filepath.Join(broken, "x.wasm"))
	b, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(b), "main.go:3:15: undefined: undefinedThing") {
		t.Errorf("broken build: err %v, output:\n%s", err, b)
	}
}
