package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// requireLang skips (fails under CI=true) without lang's toolchain.
func requireLang(t *testing.T, lang string) {
	t.Helper()
	switch lang {
	case "go":
		testkit.Require(t, "go")
	case "c":
		testkit.RequireC(t)
	case "rust", "cargo":
		testkit.RequireRust(t)
	case "assemblyscript":
		testkit.Require(t, "npm")
	case "wat":
		testkit.Require(t, "wat2wasm")
	}
}

// newPlugin runs `wasmcluster new` in a temp dir and returns the plugin's
// directory.
func newPlugin(t *testing.T, name, lang string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if r := runBin(t, nil, "new", dir, "--lang", lang); r.code != 0 || !strings.Contains(r.stdout, "created "+dir) {
		t.Fatalf("new %s --lang %s: exit %d\n%s%s", name, lang, r.code, r.stdout, r.stderr)
	}
	return dir
}

// serveDir serves a plugin source directory with one worker, its own
// control socket and the run's cache.
func serveDir(t *testing.T, dir string) (*testkit.Server, string) {
	t.Helper()
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	srv := startServe(t, nil, dir, "--listen", "127.0.0.1:0", "--workers", "1", "--control", ctl,
		"--cache-dir", filepath.Join(testkit.Dir(t), "cache"))
	return srv, ctl
}

func getUA(t *testing.T, url, agent string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("User-Agent", agent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `new` for every language writes a plugin that `build` builds (kind
// detected) and `serve DIR` serves: the hello route and the header route.
func TestNewBuildServeEveryLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs the binary")
	}
	for _, lang := range []string{"go", "c", "rust", "assemblyscript", "wat"} {
		t.Run(lang, func(t *testing.T) {
			requireLang(t, lang)
			name := "p-" + lang
			dir := newPlugin(t, name, lang)
			out := filepath.Join(t.TempDir(), "out.wasm")
			r := runBin(t, nil, "build", dir, "-o", out, "--cache-dir", filepath.Join(testkit.Dir(t), "cache"))
			if r.code != 0 || !strings.Contains(r.stdout, "("+lang+", ") {
				t.Fatalf("build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if b, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(b), "\x00asm") {
				t.Fatalf("build wrote no module: %v", err)
			}
			srv, _ := serveDir(t, dir)
			if code, body := getUA(t, srv.URL()+"/", "t"); code != 200 || body != "hello from "+name+"\n" {
				t.Errorf("GET /: %d %q", code, body)
			}
			if lang == "wat" {
				return // the WAT hello has one route
			}
			if code, body := getUA(t, srv.URL()+"/agent", "curl/8.0"); code != 200 || body != "your user-agent: curl/8.0\n" {
				t.Errorf("GET /agent: %d %q", code, body)
			}
		})
	}
}

// The kinds `new` does not write: a Cargo project, a Makefile, a
// wasmcluster.toml build command; and the errors: a missing toolchain
// names its packages, a directory with nothing to build is a usage error.
func TestBuildKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs the binary")
	}
	requireLang(t, "wat")
	cache := filepath.Join(testkit.Dir(t), "cache")
	build := func(dir string, env ...string) result {
		return runBin(t, env, "build", dir, "-o", filepath.Join(t.TempDir(), "out.wasm"), "--cache-dir", cache)
	}
	mk := newPlugin(t, "p-make", "wat")
	os.WriteFile(filepath.Join(mk, "Makefile"), []byte("plugin.wasm: plugin.wat\n\twat2wasm plugin.wat -o plugin.wasm\n"), 0o644)
	if r := build(mk); r.code != 0 || !strings.Contains(r.stdout, "(make, ") {
		t.Errorf("make: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	man := newPlugin(t, "p-manifest", "wat")
	os.WriteFile(filepath.Join(man, "wasmcluster.toml"), []byte("# how to build\nbuild = \"wat2wasm plugin.wat -o custom.wasm\"\noutput = \"custom.wasm\"\n"), 0o644)
	if r := build(man); r.code != 0 || !strings.Contains(r.stdout, "(manifest, ") {
		t.Errorf("manifest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(filepath.Join(man, "wasmcluster.toml"), []byte("build = \"true\"\nouptut = \"x.wasm\"\n"), 0o644)
	if r := build(man); r.code != 2 || !strings.Contains(r.stderr, `unknown key "ouptut"`) {
		t.Errorf("bad manifest: exit %d\n%s", r.code, r.stderr)
	}
	if r := build(t.TempDir()); r.code != 2 || !strings.Contains(r.stderr, "no plugin project") {
		t.Errorf("empty dir: exit %d\n%s", r.code, r.stderr)
	}
	// No clang on PATH: the error says what to install.
	c := newPlugin(t, "p-c", "c")
	if r := build(c, "PATH="+t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "apt-get install clang lld wasi-libc") {
		t.Errorf("no clang: exit %d\n%s", r.code, r.stderr)
	}
	// serve of a project that does not build: exit 1 with the compiler's
	// message, before binding anything.
	if testkit.RequireC(t) != "" {
		os.WriteFile(filepath.Join(c, "plugin.c"), []byte("int broken( {\n"), 0o644)
		r := runBin(t, nil, "serve", c, "--listen", "127.0.0.1:0", "--control", "-", "--cache-dir", cache)
		if r.code != 1 || !strings.Contains(r.stderr, "plugin.c:1:") {
			t.Errorf("serve of a broken build: exit %d\n%s", r.code, r.stderr)
		}
	}
	t.Run("cargo", func(t *testing.T) {
		requireLang(t, "cargo")
		testkit.Require(t, "/usr/bin/cargo")
		dir := newPlugin(t, "p-cargo", "rust")
		os.WriteFile(filepath.Join(dir, "Cargo.toml"), []byte("[package]\nname = \"p-cargo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\npath = \"lib.rs\"\ncrate-type = [\"cdylib\"]\n\n[profile.release]\nopt-level = \"s\"\npanic = \"abort\"\n"), 0o644)
		if r := build(dir); r.code != 0 || !strings.Contains(r.stdout, "(cargo, ") {
			t.Errorf("cargo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// buildStatus is the dev loop's part of `wasmcluster status --json`.
func buildStatus(t *testing.T, ctl string) *control.BuildStatus {
	t.Helper()
	out, err := exec.Command(bin(t), "status", "--json", "--control", ctl).Output()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var st control.Status
	if err := json.Unmarshal(out, &st); err != nil || st.Plugin == nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	return st.Plugin.Build
}

// The dev loop, for Go and C, under 16 strict clients: a save is served
// soon after (bounded wait, not a timed assertion), a syntax error keeps
// the saved version serving with the compiler's error in the log and in
// status, and not one request fails.
func TestDevLoopUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs the binary under load")
	}
	for _, tc := range []struct{ lang, file, broken string }{
		{"go", "main.go", "\nfunc broken( {\n"},
		{"c", "plugin.c", "\nint broken( {\n"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			requireLang(t, tc.lang)
			name := "dev-" + tc.lang
			dir := newPlugin(t, name, tc.lang)
			srv, ctl := serveDir(t, dir)
			src := filepath.Join(dir, tc.file)
			orig, _ := os.ReadFile(src)
			v1, v2 := "hello from "+name+"\n", "hello again from "+name+"\n"
			load := testkit.StartLoad(srv.URL()+"/", testkit.LoadOptions{
				Clients: 16,
				Request: func(int, int) (string, string, string) { return "GET", "", "" },
				Check: func(_ *http.Response, body []byte, _ time.Time) string {
					if s := string(body); s != v1 && s != v2 {
						return "unknown answer"
					}
					return ""
				},
			})
			defer load.Stop()
			edited := strings.Replace(string(orig), "hello from", "hello again from", 1)
			if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, 2*time.Minute, "the edited text served", func() bool {
				_, body := getUA(t, srv.URL()+"/", "t")
				return body == v2
			})
			if err := os.WriteFile(src, []byte(edited+tc.broken), 0o644); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, 2*time.Minute, "the failed build in status", func() bool {
				b := buildStatus(t, ctl)
				return b != nil && b.LastError != ""
			})
			srv.WaitLog("plugin build failed; the running version keeps serving")
			if b := buildStatus(t, ctl); !strings.Contains(b.LastError, tc.file+":") || b.Failures != 1 {
				t.Errorf("status build: %+v, want the compiler's error naming %s", b, tc.file)
			}
			if r := runBin(t, nil, "status", "--control", ctl); !strings.Contains(r.stdout, "last build failed") || !strings.Contains(r.stdout, tc.file+":") {
				t.Errorf("status lacks the failed build:\n%s%s", r.stdout, r.stderr)
			}
			if _, body := getUA(t, srv.URL()+"/", "t"); body != v2 {
				t.Errorf("after the failed build: got %q, want %q", body, v2)
			}
			if res := load.Stop(); res.Failed() != 0 || res.OK == 0 {
				t.Errorf("load: %v", res)
			}
		})
	}
}

// With the plugin file not watched, `reload --wait` rebuilds the sources
// first; a broken build fails the reload with the compiler's output. The
// builds, like the snapshots, follow --cache-dir.
func TestReloadRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs the binary")
	}
	requireLang(t, "c")
	dir := newPlugin(t, "reload-c", "c")
	ctl := filepath.Join(t.TempDir(), "ctl.sock")
	userCache := t.TempDir() // --cache-dir is elsewhere: nothing may land here
	srv := startServe(t, []string{"XDG_CACHE_HOME=" + userCache}, dir, "--listen", "127.0.0.1:0", "--workers", "1", "--control", ctl,
		"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--plugin-watch=false")
	defer func() {
		if entries, _ := os.ReadDir(userCache); len(entries) > 0 {
			t.Errorf("the user cache dir got %v although --cache-dir points elsewhere", entries)
		}
	}()
	src := filepath.Join(dir, "plugin.c")
	orig, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(orig), "hello from", "reloaded", 1)), 0o644)
	if r := runBin(t, nil, "reload", "--wait", "--control", ctl); r.code != 0 {
		t.Fatalf("reload: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, body := getUA(t, srv.URL()+"/", "t"); body != "reloaded reload-c\n" {
		t.Errorf("after reload: %q", body)
	}
	os.WriteFile(src, []byte("int broken( {\n"), 0o644)
	if r := runBin(t, nil, "reload", "--wait", "--control", ctl); r.code == 0 || !strings.Contains(r.stderr, "plugin.c:1:") {
		t.Errorf("reload of a broken build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, body := getUA(t, srv.URL()+"/", "t"); body != "reloaded reload-c\n" {
		t.Errorf("after a failed reload: %q", body)
	}
}
