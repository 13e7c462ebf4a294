package main

// What serve does with the paths it is given, through the real binary: the
// plugin must be a regular file of bounded size that no other user can
// replace, --control only ever deletes a stale socket, the snapshots live
// in the configured cache directory, and an admin listener reachable from
// other machines is called out.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// isolatedServe is `wasmcluster serve` with JSON logs and nothing shared with
// other tests (no admin listener, no control socket unless args set one).
func isolatedServe(t *testing.T, env []string, args ...string) *exec.Cmd {
	return serveCmd(t, env, append([]string{"--listen", "127.0.0.1:0", "--admin", "off", "--workers", "1"}, args...)...)
}

// refused runs serve to its end and checks it failed with exit code want
// and a message holding every one of substrs.
func refused(t *testing.T, cmd *exec.Cmd, want int, substrs ...string) string {
	t.Helper()
	_, stderr, code := testkit.Run(t, cmd)
	if code != want {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, want, stderr)
	}
	for _, s := range substrs {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	return stderr
}

// A FIFO, a device and an oversized file are refused before anything is
// read: a FIFO used to block serve forever and /dev/zero to fill memory.
func TestServeRefusesSpecialPluginFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plugin.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, isolatedServe(t, nil, fifo), 1, fifo, "not a regular file", "named pipe")
	refused(t, isolatedServe(t, nil, "/dev/zero"), 1, "/dev/zero", "not a regular file", "character device")

	big := filepath.Join(dir, "big.wasm")
	if err := os.WriteFile(big, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, isolatedServe(t, nil, big, "--plugin-max-size", "1KiB"), 1, big, "plugin.max_size")
	refused(t, isolatedServe(t, nil, big, "--plugin-max-size", "0"), 2, "plugin.max_size")
}

// SIGTERM while the plugin file is being read stops serve: the read looks
// at the context between chunks. The file is sparse, so reading its 8 GiB
// takes seconds while the disk holds nothing.
func TestServeStopsDuringPluginRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.wasm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 30); err != nil {
		f.Close()
		t.Skipf("no sparse 8 GiB file here: %v", err)
	}
	f.Close()
	cmd := isolatedServe(t, nil, path, "--plugin-max-size", "16GiB", "--log-level", "debug")
	s := testkit.Launch(t, cmd)
	stderr := s.Log
	testkit.WaitFor(t, 30*time.Second, "the read to start", func() bool {
		return strings.Contains(stderr.String(), "reading plugin file")
	})
	s.Signal(syscall.SIGTERM)
	select {
	case <-s.Exited():
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30 s after one SIGTERM during the plugin read; stderr:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("the read was not interrupted; stderr:\n%s", stderr)
	}
}

// A plugin other users could replace is refused, naming what to fix;
// plugin.allow_insecure_path serves it with a warning. A sticky
// world-writable directory (/tmp) is accepted for a file of ours.
func TestServeRefusesInsecurePluginPath(t *testing.T) {
	wasm := versionWAT(t, "1")
	put := func(dir string, dirMode, fileMode os.FileMode) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "plugin.wasm")
		if err := os.WriteFile(path, wasm, 0o600); err != nil {
			t.Fatal(err)
		}
		// Chmod: the umask does not apply.
		if err := os.Chmod(path, fileMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, dirMode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := t.TempDir()
	openDir := put(filepath.Join(base, "open"), 0o777, 0o644)
	refused(t, isolatedServe(t, nil, openDir), 1, filepath.Join(base, "open"), "writable by its group or others", "chmod go-w", "plugin.allow_insecure_path")
	groupFile := put(filepath.Join(base, "group"), 0o755, 0o664)
	refused(t, isolatedServe(t, nil, groupFile), 1, groupFile, "chmod go-w "+groupFile)

	s := testkit.Start(t, isolatedServe(t, nil, openDir, "--plugin-allow-insecure-path"))
	if !strings.Contains(s.Log.String(), "allow_insecure_path") {
		t.Errorf("no warning about plugin.allow_insecure_path:\n%s", s.Log)
	}

	sticky := put(filepath.Join(base, "sticky"), os.ModeSticky|0o777, 0o644)
	testkit.Start(t, isolatedServe(t, nil, sticky))

	if os.Geteuid() == 0 {
		foreign := put(filepath.Join(base, "foreign"), 0o755, 0o644)
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		refused(t, isolatedServe(t, nil, foreign), 1, foreign, "owned by uid 65534", "chown")
	}
}

// On a hot swap the same rules hold: a new content in a file made
// group-writable, or a FIFO put in the plugin's place, is refused with a
// warning (never read, never blocking), and the next good file rolls.
func TestSwapRefusesInsecureOrSpecialFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.WriteFile(path, versionWAT(t, "1"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testkit.Start(t, isolatedServe(t, nil, path))
	body := func() string {
		_, b := get(t, client, s.URL())
		return b
	}

	// The new content is group-writable from its first moment on.
	tmp := filepath.Join(dir, "new.tmp")
	if err := os.WriteFile(tmp, versionWAT(t, "2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	s.WaitLog("plugin file refused")
	if got := body(); got != "version 1\n" {
		t.Fatalf("after an insecure swap: %q, want version 1", got)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s.WaitLog("named pipe")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, versionWAT(t, "3"), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 30*time.Second, "version 3 to serve", func() bool { return body() == "version 3\n" })
}

// --control only ever deletes a stale socket: a regular file or a
// directory at the path is refused and left alone.
func TestServeControlPathRefusesNonSocket(t *testing.T) {
	hello := wat(t, "hello")
	dir := testkit.SocketDir(t)
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, isolatedServe(t, nil, hello, "--control", file), 1, file, "not a socket", "regular file")
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("the file at --control is gone or changed: %q, %v", b, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	refused(t, isolatedServe(t, nil, hello, "--control", empty), 1, empty, "not a socket", "directory")
	if fi, err := os.Stat(empty); err != nil || !fi.IsDir() {
		t.Errorf("the directory at --control is gone: %v", err)
	}

	// A stale socket (its listener gone without unlinking it) is reused.
	stale := filepath.Join(dir, "stale.sock")
	testkit.StaleSocket(t, stale)
	s := testkit.Start(t, isolatedServe(t, nil, hello, "--control", stale))
	if st := statusOf(t, stale); st.PID != s.Cmd.Process.Pid {
		t.Errorf("status on the reused socket is from pid %d, want %d", st.PID, s.Cmd.Process.Pid)
	}
}

// With no home directory serve starts when --cache-dir is given, and keeps
// its snapshots there, apart from the compiled code; without it, the error
// names cache_dir.
func TestServeCacheDirWithoutHome(t *testing.T) {
	hello := wat(t, "hello")
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A HOME below a regular file cannot be created, even by root.
	noHome := []string{"HOME=" + filepath.Join(notDir, "home"), "XDG_CACHE_HOME="}
	refused(t, isolatedServe(t, noHome, hello), 2, "cache_dir", "--cache-dir")

	cache := t.TempDir()
	testkit.Start(t, isolatedServe(t, noHome, hello, "--cache-dir", cache))
	snaps, _ := filepath.Glob(filepath.Join(cache, "snapshots", "*", "*.wasm"))
	if len(snaps) != 1 {
		t.Errorf("snapshots under --cache-dir: %v, want one", snaps)
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.Name() != "snapshots" && e.IsDir() && len(e.Name()) != 64 {
			t.Errorf("unexpected entry %s in the cache dir", e.Name())
		}
	}
}

// An admin address other machines may reach is logged with what it
// exposes. TEST-NET-1 is never assigned, so nothing is bound.
func TestServeAdminNonLoopbackWarns(t *testing.T) {
	stderr := refused(t, isolatedServe(t, nil, wat(t, "hello"), "--admin", "192.0.2.1:0"), 1, "192.0.2.1")
	if !strings.Contains(stderr, "not on a loopback address") || !strings.Contains(stderr, "/metrics") {
		t.Errorf("no warning about a non-loopback admin listener:\n%s", stderr)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9180": true, "[::1]:9180": true, "localhost:9180": true, "127.1.2.3:1": true,
		":9180": false, "0.0.0.0:9180": false, "[::]:9180": false, "10.0.0.1:9180": false, "metrics.example:9180": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
