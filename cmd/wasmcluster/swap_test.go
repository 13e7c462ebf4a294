package main

// Hot swap through the real binary: the watcher rolls every accepted
// version under load without a failed request, refuses bad plugins while
// the old version keeps serving, survives a storm of writes with at most
// one extra worker, and `reload --wait` reports the outcome.
// WASMCLUSTER_SOAK=1 runs the long version (20 swaps, >= 150k requests).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// versionWAT is a guest answering "version <name>\n".
func versionWAT(t *testing.T, name string) []byte {
	t.Helper()
	return testkit.HelloWAT(t, "version "+name+"\n")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// replaceFile writes b to path in one of the ways users replace a file.
func replaceFile(t *testing.T, path string, b []byte, method int) {
	t.Helper()
	var err error
	switch method % 3 {
	case 0: // atomic rename (mv, go build -o)
		tmp := path + ".tmp"
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, path)
		}
	case 1: // truncate, then write in place (cat >, cp)
		err = os.WriteFile(path, b, 0o644)
	case 2: // truncate, then write in two pieces with a pause
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644); err == nil {
			f.Write(b[:len(b)/2])
			time.Sleep(20 * time.Millisecond)
			_, err = f.Write(b[len(b)/2:])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// waitRolled waits until every one of n workers runs version and no roll is
// under way; it returns the status then.
func waitRolled(tb testing.TB, sock, version string, n int, timeout time.Duration) *control.Status {
	tb.Helper()
	var st *control.Status
	testkit.Eventually(tb, timeout, func() error {
		var err error
		st, err = control.QueryStatus(tb.Context(), sock)
		if err == nil && st.Version == version && st.Target == "" && len(st.Workers) == n {
			all := true
			for _, w := range st.Workers {
				all = all && w.State == "ready" && w.Version == version
			}
			if all {
				return nil
			}
		}
		return fmt.Errorf("not all %d workers on %.12s: %+v %v", n, version, st, err)
	})
	return st
}

func countFDs(t *testing.T, pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// startSwapServe serves the plugin at path with n workers and a private
// control socket.
func startSwapServe(t *testing.T, path string, n int, extra ...string) (*testkit.Server, string) {
	t.Helper()
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	args := append([]string{path, "--listen", "127.0.0.1:0", "--workers", strconv.Itoa(n), "--control", sock}, extra...)
	return startServe(t, nil, args...), sock
}

func TestSwapUnderLoad(t *testing.T) {
	swaps, clients := 6, 32
	soak := os.Getenv("WASMCLUSTER_SOAK") != ""
	if soak {
		swaps = 20
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	vers := [][]byte{versionWAT(t, "A"), versionWAT(t, "B")}
	if err := os.WriteFile(path, vers[0], 0o644); err != nil {
		t.Fatal(err)
	}
	s, sock := startSwapServe(t, path, 2)
	l := startSwapLoad(s.URL(), clients, "version A\n", "version B\n")
	defer l.Stop()
	pid := s.Cmd.Process.Pid
	var fds0 int
	var took []time.Duration
	for i := 1; i <= swaps; i++ {
		if soak {
			// Spread the swaps so the run sends >= 150k requests.
			time.Sleep(3 * time.Second)
		}
		b := vers[i%2]
		l.setExpect("")
		t0 := time.Now()
		replaceFile(t, path, b, i)
		st := waitRolled(t, sock, sha(b), 2, 30*time.Second)
		took = append(took, time.Since(t0))
		l.setExpect(answerOf(i))
		if st.Roll == nil || st.Roll.Outcome != control.OutcomeOK || st.Roll.Trigger != "watch" {
			t.Errorf("swap %d: roll status %+v", i, st.Roll)
		}
		if i == 1 {
			time.Sleep(200 * time.Millisecond)
			fds0 = countFDs(t, pid)
		}
	}
	time.Sleep(300 * time.Millisecond)
	l.check(t)
	t.Logf("%d swaps, write -> all workers on the new version: %v", swaps, took)
	fds1 := countFDs(t, pid)
	t.Logf("primary fds after the first swap %d, after the last %d", fds0, fds1)
	if fds1 > fds0+3 {
		t.Errorf("primary fds grew from %d to %d over %d swaps", fds0, fds1, swaps)
	}
	if ok := l.Result().OK; soak && ok < 150000 {
		t.Errorf("soak sent only %d requests, want >= 150000", ok)
	}
}

// answerOf is the body version i%2 answers (vers[0] is A).
func answerOf(i int) string {
	if i%2 == 0 {
		return "version A\n"
	}
	return "version B\n"
}

// Bad plugins written during load are refused one by one: nothing fails,
// the old version keeps serving, status says why; then a good one rolls.
func TestSwapBadPlugins(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	good, next := versionWAT(t, "A"), versionWAT(t, "B")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		wasm []byte
		want string // in the refusal
	}{
		{"garbage", []byte("this is not wasm at all\n"), "not a WebAssembly module"},
		{"truncated", good[:len(good)/2], "preflight load"},
		{"missing exports", testkit.WAT(t, `(module (memory (export "memory") 1) (func (export "handle_response") (param i32 i32)))`), "handle_request"},
		{"trap in _initialize", testkit.WAT(t, `(module (memory (export "memory") 1) (func (export "_initialize") unreachable) (func (export "handle_request") (result i64) (i64.const 0)))`), "preflight load"},
		{"hang in _initialize", testkit.WAT(t, `(module (memory (export "memory") 1) (func (export "_initialize") (loop $l (br $l))) (func (export "handle_request") (result i64) (i64.const 0)))`), "timed out"},
		{"exit after _start", testkit.WAT(t, `(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32))) (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 0))) (func (export "handle_request") (result i64) (i64.const 0)))`), "preflight load"},
	}
	s, sock := startSwapServe(t, path, 2, "--plugin-preflight-timeout", "1500ms")
	l := startSwapLoad(s.URL(), 32, "version A\n", "version B\n")
	defer l.Stop()
	l.setExpect("version A\n")
	for i, b := range bad {
		replaceFile(t, path, b.wasm, i)
		h := sha(b.wasm)
		var st *control.Status
		testkit.Eventually(t, 20*time.Second, func() error {
			var err error
			st, err = control.QueryStatus(t.Context(), sock)
			if err == nil && st.Plugin != nil && st.Plugin.LastRefused != nil && st.Plugin.LastRefused.Version == h {
				return nil
			}
			return fmt.Errorf("%s: not refused: %+v", b.name, st)
		})
		r := st.Plugin.LastRefused
		t.Logf("%s: refused: %s", b.name, r.Error)
		if !strings.Contains(r.Error, b.want) {
			t.Errorf("%s: refusal %q lacks %q", b.name, r.Error, b.want)
		}
		if st.Version != sha(good) || st.Plugin.NRefused != uint64(i+1) {
			t.Errorf("%s: version %.12s, %d refused", b.name, st.Version, st.Plugin.NRefused)
		}
		if r := runBin(t, nil, "status", "--control", sock); !strings.Contains(r.stdout, "last refused: "+h[:12]) {
			t.Errorf("%s: status text lacks the refusal:\n%s", b.name, r.stdout)
		}
	}
	l.setExpect("")
	replaceFile(t, path, next, 0)
	waitRolled(t, sock, sha(next), 2, 30*time.Second)
	l.setExpect("version B\n")
	time.Sleep(300 * time.Millisecond)
	l.check(t)
}

// 20 writes within 5 s: the last one written serves at the end, and there
// is never more than one extra worker serving or starting.
func TestSwapStorm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	var vers [][]byte
	var known []string
	for i := range 21 {
		vers = append(vers, versionWAT(t, fmt.Sprintf("v%02d", i)))
		known = append(known, fmt.Sprintf("version v%02d\n", i))
	}
	if err := os.WriteFile(path, vers[0], 0o644); err != nil {
		t.Fatal(err)
	}
	s, sock := startSwapServe(t, path, 2)
	pid := s.Cmd.Process.Pid
	l := startSwapLoad(s.URL(), 32, known...)
	defer l.Stop()
	var maxKids, maxActive atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := int64(len(children(pid))); n > maxKids.Load() {
				maxKids.Store(n)
			}
			if st, err := control.QueryStatus(t.Context(), sock); err == nil {
				n := int64(0)
				for _, w := range st.Workers {
					if w.State == "ready" || w.State == "starting" {
						n++
					}
				}
				if n > maxActive.Load() {
					maxActive.Store(n)
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	for i := 1; i <= 20; i++ {
		replaceFile(t, path, vers[i], i)
		time.Sleep(220 * time.Millisecond)
	}
	waitRolled(t, sock, sha(vers[20]), 2, 30*time.Second)
	l.setExpect("version v20\n")
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-sampled
	l.check(t)
	// One surge worker at a time: at most workers+1 serve or start; the
	// workers they replaced drain beside them (at most one per slot).
	if m := maxActive.Load(); m > 3 {
		t.Errorf("saw %d workers serving or starting; at most workers+1 = 3 allowed", m)
	}
	if m := maxKids.Load(); m > 4 {
		t.Errorf("saw %d worker processes; at most 2 x workers = 4 allowed (the replaced ones draining)", m)
	}
	t.Logf("at most %d workers serving or starting, %d processes", maxActive.Load(), maxKids.Load())
	resp, body := get(t, &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, s.URL())
	if resp.StatusCode != 200 || body != "version v20\n" {
		t.Errorf("after the storm: %d %q", resp.StatusCode, body)
	}
	// Rolls pruned the snapshots and compilation-cache entries of the
	// versions nobody runs: the newest few stay (plugins.DefaultKeepSnapshots
	// plus those in use). The last roll prunes after status shows it done:
	// wait for that prune rather than sample the directories once.
	sum := sha256.Sum256([]byte(path))
	var snaps []string
	cached := 0
	testkit.Eventually(t, 30*time.Second, func() error {
		snaps, _ = filepath.Glob(filepath.Join(testkit.CacheHome(t), "wasmcluster", "snapshots", hex.EncodeToString(sum[:8]), "*.wasm"))
		cached = 0
		for _, v := range vers {
			if _, err := os.Stat(filepath.Join(testkit.CacheHome(t), "wasmcluster", sha(v))); err == nil {
				cached++
			}
		}
		if len(snaps) == 0 || len(snaps) > 5 || cached > 5 {
			return fmt.Errorf("after 20 versions: %d snapshots (%v), %d cache entries; want 1..5 each", len(snaps), snaps, cached)
		}
		return nil
	})
	t.Logf("after 20 versions: %d snapshots, %d compilation-cache entries of this test's versions", len(snaps), cached)
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces; split after ')'.
		i := strings.LastIndexByte(string(b), ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// With plugin.watch off, writes do nothing until `reload`; --wait reports
// the outcome and fails on a refused plugin.
func TestReloadCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	if err := os.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	_, sock := startSwapServe(t, path, 2, "--plugin-watch=false")
	replaceFile(t, path, b, 0)
	time.Sleep(time.Second) // a watcher would have rolled by now
	st := statusOf(t, sock)
	if st.Version != sha(a) || st.Plugin == nil || st.Plugin.Watching {
		t.Fatalf("with watch off: version %.12s plugin %+v", st.Version, st.Plugin)
	}
	r := runBin(t, nil, "reload", "--wait", "--control", sock)
	if r.code != 0 || !strings.Contains(r.stdout, "rolled to "+sha(b)[:12]) {
		t.Fatalf("reload --wait: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	waitRolled(t, sock, sha(b), 2, 5*time.Second)

	replaceFile(t, path, []byte("garbage"), 1)
	r = runBin(t, nil, "reload", "--wait", "--control", sock)
	if r.code != 1 || !strings.Contains(r.stderr, "not a WebAssembly module") {
		t.Fatalf("reload --wait of garbage: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if st := statusOf(t, sock); st.Version != sha(b) || st.Plugin.LastRefused == nil {
		t.Errorf("after refused reload: version %.12s plugin %+v", st.Version, st.Plugin)
	}

	replaceFile(t, path, a, 0)
	r = runBin(t, nil, "reload", "--control", sock)
	if r.code != 0 || !strings.Contains(r.stdout, "rolling to "+sha(a)[:12]) {
		t.Fatalf("reload: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	waitRolled(t, sock, sha(a), 2, 20*time.Second)
	if r := runBin(t, nil, "reload", "--control", filepath.Join(testkit.SocketDir(t), "none.sock")); r.code != 1 || !strings.Contains(r.stderr, "no wasmcluster instance is running") {
		t.Errorf("reload without instance: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestSwapLatency measures, with --workers = usable CPUs, the time from
// the plugin file write until the first answer from the new version and
// until every worker runs it (after which every answer does), for a WAT
// guest and the ~2 MB Go guest of bench/guests/version. A measurement, not
// a check: run with WASMCLUSTER_SWAP_BENCH=1 -v.
func TestSwapLatency(t *testing.T) {
	if os.Getenv("WASMCLUSTER_SWAP_BENCH") == "" {
		t.Skip("set WASMCLUSTER_SWAP_BENCH=1 to measure swap latency")
	}
	n := workers.UsableCPUs()
	goGuest := func(v string) []byte {
		return testkit.GoWasm(t, "../../bench/guests/version", "-ldflags=-X main.version="+v)
	}
	for _, kind := range []string{"wat", "go"} {
		t.Run(kind, func(t *testing.T) {
			var a, b []byte
			if kind == "wat" {
				a, b = versionWAT(t, "A"), versionWAT(t, "B")
			} else {
				a, b = goGuest("A"), goGuest("B")
			}
			path := filepath.Join(t.TempDir(), "plugin.wasm")
			os.WriteFile(path, a, 0o644)
			s, sock := startSwapServe(t, path, n)
			l := startSwapLoad(s.URL(), 8, "version A\n", "version B\n")
			defer l.Stop()
			var firsts, alls []time.Duration
			for i := 1; i <= 6; i++ {
				next := b
				want := "version B\n"
				if i%2 == 0 {
					next, want = a, "version A\n"
				}
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				t0 := time.Now()
				replaceFile(t, path, next, 0)
				var first time.Duration
				for first == 0 && time.Since(t0) < 30*time.Second {
					if _, body := get(t, c, s.URL()); body == want {
						first = time.Since(t0)
					}
				}
				waitRolled(t, sock, sha(next), n, 30*time.Second)
				all := time.Since(t0)
				firsts, alls = append(firsts, first), append(alls, all)
				t.Logf("swap %d (%s, %d bytes): first new answer %v, all workers new %v; %s", i, kind, len(next), first.Round(time.Millisecond), all.Round(time.Millisecond), phases(s.Log.String(), t0))
				time.Sleep(500 * time.Millisecond)
			}
			l.check(t)
			t.Logf("%s guest, %d workers: first new %v; all new %v", kind, n, firsts, alls)
		})
	}
}

// phases lists the roll's log events after t0 with their offsets:
// where a swap's time goes (preflight, each worker start, each drain).
func phases(log string, t0 time.Time) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		var rec struct {
			Time             time.Time
			Msg, Start, Exit string
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Time.Before(t0) {
			continue
		}
		switch rec.Msg {
		case "plugin accepted", "roll started", "roll finished":
			out = append(out, fmt.Sprintf("%s@%dms", rec.Msg, rec.Time.Sub(t0).Milliseconds()))
		case "worker ready":
			out = append(out, fmt.Sprintf("ready(start %s)@%dms", rec.Start, rec.Time.Sub(t0).Milliseconds()))
		case "worker exited":
			out = append(out, fmt.Sprintf("old exited@%dms", rec.Time.Sub(t0).Milliseconds()))
		}
	}
	return strings.Join(out, ", ")
}
