package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// grantsGuest is testdata/grants, a Go guest that answers with its whole
// environment (/env) and with what reading, writing or listing a path
// gives it (/read?PATH, /write?PATH, /list?PATH).
func grantsGuest(t *testing.T) string {
	t.Helper()
	return testkit.TempFile(t, "grants.wasm", testkit.GoWasm(t, "testdata/grants", "-ldflags=-s -w"))
}

// The guest's environment is exactly plugin.env: a bare name takes the
// server's value, NAME=value sets one, a name the server lacks is left out
// (and logged by name); nothing else of the server's environment leaks.
// Values appear in no log line, nor in status or config output.
func TestEnvGrants(t *testing.T) {
	const fromServer, literal = "server-value-8d1f", "literal-value-77ac"
	wasm := grantsGuest(t)
	sock := filepath.Join(testkit.SocketDir(t), "grants.sock")
	env := []string{"GRANTED_FROM_SERVER=" + fromServer, "NOT_GRANTED=leak-3b9e"}
	flags := []string{"--plugin-env", "GRANTED_FROM_SERVER", "--plugin-env", "SITE_NAME=" + literal,
		"--plugin-env", "ABSENT_VAR_X"}
	s := startServe(t, env, append([]string{wasm, "--listen", "127.0.0.1:0", "--workers", "1",
		"--control", sock, "--log-level", "debug"}, flags...)...)

	_, body := get(t, client, s.URL()+"/env")
	want := "GRANTED_FROM_SERVER=" + fromServer + "\nSITE_NAME=" + literal
	if body != want {
		t.Errorf("guest environment:\n%s\nwant exactly:\n%s", body, want)
	}
	status := runBin(t, nil, "status", "--control", sock)
	statusJSON := runBin(t, nil, "status", "--json", "--control", sock)
	config := runBin(t, env, append([]string{"config"}, flags...)...)
	if status.code != 0 || config.code != 0 || !strings.Contains(config.stdout, `env = ["GRANTED_FROM_SERVER", "SITE_NAME", "ABSENT_VAR_X"]`) {
		t.Errorf("status exit %d, config exit %d; config output:\n%s", status.code, config.code, config.stdout)
	}
	if !strings.Contains(s.Log.String(), `"name":"ABSENT_VAR_X"`) {
		t.Errorf("no log line naming the absent variable:\n%s", s.Log)
	}
	for what, out := range map[string]string{"log": s.Log.String(), "status": status.stdout + status.stderr,
		"status --json": statusJSON.stdout, "config": config.stdout + config.stderr} {
		for _, v := range []string{fromServer, literal} {
			if strings.Contains(out, v) {
				t.Errorf("%s shows the value %q:\n%s", what, v, out)
			}
		}
	}
}

// Without plugin.env the guest's environment is empty, whatever the
// server's holds.
func TestEnvEmptyByDefault(t *testing.T) {
	s := startServe(t, []string{"SOME_SERVER_VAR=x"}, grantsGuest(t), "--listen", "127.0.0.1:0",
		"--workers", "0", "--control", "-")
	if _, body := get(t, client, s.URL()+"/env"); body != "" {
		t.Errorf("guest environment without grants: %q, want empty", body)
	}
	if _, body := get(t, client, s.URL()+"/list?/"); !strings.Contains(body, "error") {
		t.Errorf("guest lists / without mounts: %q, want an error", body)
	}
}

// A bad entry is refused at start, naming the key and the entry without
// its value; a mount of a missing directory names the key and the path.
func TestGrantsRefused(t *testing.T) {
	wasm := testkit.TempFile(t, "hello.wasm", testkit.WATFile(t, filepath.Join("testdata", "hello.wat")))
	missing := filepath.Join(t.TempDir(), "nope")
	file := testkit.TempFile(t, "file.txt", []byte("x"))
	for _, tt := range []struct {
		flags []string
		want  []string
	}{
		{[]string{"--plugin-env", "BAD-NAME=secret-9f2"}, []string{"plugin.env", `"BAD-NAME=…"`}},
		{[]string{"--plugin-env", "=secret-9f2"}, []string{"plugin.env", `"=…"`, "empty variable name"}},
		{[]string{"--plugin-mounts", missing + ":/data"}, []string{"plugin.mounts", missing, "no such file"}},
		{[]string{"--plugin-mounts", file + ":/data"}, []string{"plugin.mounts", file, "not a directory"}},
		{[]string{"--plugin-mounts", t.TempDir() + ":data"}, []string{"plugin.mounts", "must be absolute"}},
	} {
		r := runBin(t, nil, append([]string{"serve", wasm, "--control", "-", "--listen", "127.0.0.1:0"}, tt.flags...)...)
		for _, w := range tt.want {
			if r.code != 2 || !strings.Contains(r.stderr, w) || strings.Contains(r.stderr, "secret-9f2") {
				t.Errorf("%v: exit %d, stderr:\n%s\nwant exit 2 naming %q, no value", tt.flags, r.code, r.stderr, w)
			}
		}
	}
}

// mountTree is a directory to mount holding a.txt, beside a directory
// outside it, with links out of the mount: a directory link, a file link
// and a dangling one.
func mountTree(t *testing.T) (mnt, outside string) {
	root := t.TempDir()
	mnt, outside = filepath.Join(root, "mnt"), filepath.Join(root, "outside")
	for _, d := range []string{mnt, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("mounted content"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside content"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(mnt, "dirlink")))
	must(t, os.Symlink("../outside/secret.txt", filepath.Join(mnt, "filelink")))
	must(t, os.Symlink(filepath.Join(outside, "created.txt"), filepath.Join(mnt, "dangling")))
	must(t, os.Symlink("a.txt", filepath.Join(mnt, "inside-link")))
	return mnt, outside
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A read-only mount at /ro and a writable one at /rw: reads work, writes
// only where :rw was asked, and no way out of a mount works in either.
func TestMounts(t *testing.T) {
	ro, outside := mountTree(t)
	rw, _ := mountTree(t)
	s := startServe(t, nil, grantsGuest(t), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--plugin-mounts", ro+":/ro", "--plugin-mounts", rw+":/rw:rw")
	check := func(path string, status int, body string) {
		t.Helper()
		resp, got := get(t, client, s.URL()+path)
		if resp.StatusCode != status || !strings.Contains(got, body) {
			t.Errorf("GET %s: %d %q, want %d with %q", path, resp.StatusCode, got, status, body)
		}
	}
	check("/read?/ro/a.txt", 200, "mounted content")
	check("/read?/ro/inside-link", 200, "mounted content") // a link inside the mount is fine
	check("/list?/ro", 200, "a.txt\n")
	check("/write?/ro/new.txt", 403, "Read-only file system")
	check("/write?/ro/a.txt", 403, "Read-only file system")
	check("/write?/rw/new.txt", 200, "ok")
	if b, err := os.ReadFile(filepath.Join(rw, "new.txt")); err != nil || string(b) != "written by the guest" {
		t.Errorf("file written through the :rw mount: %q, %v", b, err)
	}
	for _, m := range []string{"/ro", "/rw"} {
		check("/read?"+m+"/../outside/secret.txt", 403, "error")
		check("/read?"+m+"/dirlink/secret.txt", 403, "not permitted")
		check("/read?"+m+"/filelink", 403, "not permitted")
		check("/list?"+m+"/dirlink", 403, "error")
		check("/read?"+outside+"/secret.txt", 403, "error")
		check("/read?/etc/passwd", 403, "error")
	}
	check("/write?/rw/dangling", 403, "not permitted")
	check("/write?/rw/dirlink/x.txt", 403, "not permitted")
	if _, err := os.Stat(filepath.Join(outside, "created.txt")); err == nil {
		t.Error("the guest created a file outside its mount through a dangling link")
	}
	if _, err := os.Stat(filepath.Join(outside, "x.txt")); err == nil {
		t.Error("the guest created a file outside its mount through a directory link")
	}
}

// With --workers 0 the plugin preflight loaded is the one serving, so this
// shows the check applies the same grants as the workers.
func TestGrantsInProcess(t *testing.T) {
	mnt, _ := mountTree(t)
	s := startServe(t, nil, grantsGuest(t), "--listen", "127.0.0.1:0", "--workers", "0", "--control", "-",
		"--plugin-env", "SITE_NAME=in-process", "--plugin-mounts", mnt+":/data")
	if _, body := get(t, client, s.URL()+"/env"); body != "SITE_NAME=in-process" {
		t.Errorf("environment: %q", body)
	}
	if _, body := get(t, client, s.URL()+"/read?/data/a.txt"); body != "mounted content" {
		t.Errorf("mounted file: %q", body)
	}
}
