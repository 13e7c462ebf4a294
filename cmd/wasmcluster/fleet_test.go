package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// These tests stand two machines in with two instances on loopback, and
// NATS with an in-process JetStream server, token-authenticated.

const fleetToken = "fleet-test-token"

// natsNode is a JetStream server on a fixed port and store directory, so
// it can be stopped and started again as the same server.
type natsNode struct {
	opts *server.Options
	ns   *server.Server
}

func newNATS(t testing.TB) *natsNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	n := &natsNode{opts: &server.Options{
		ServerName: "fleet-test", Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: t.TempDir(), JetStreamMaxMemory: 32 << 20,
		Authorization: fleetToken, NoSigs: true, NoLog: true,
	}}
	t.Cleanup(n.stop)
	return n
}

func (n *natsNode) start(t testing.TB) {
	t.Helper()
	if err := n.startErr(); err != nil { // fleet_cluster_test.go
		t.Fatal(err)
	}
}

func (n *natsNode) stop() {
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
		n.ns = nil
	}
}

// source is the plugin source on n.
func (n *natsNode) source() string {
	return fmt.Sprintf("nats://127.0.0.1:%d/plugins/site", n.opts.Port)
}

// fleetFlags are the flags every command of these tests takes: the token,
// and no store of their own.
func fleetFlags(t testing.TB) []string {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(fleetToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--kv-token-file", tf, "--kv-url", "off"}
}

// startInstance serves src with 2 workers and its own cache directory.
func startFleetInstance(t *testing.T, src, cache string, flags []string) *testkit.Server {
	t.Helper()
	args := append([]string{src, "--listen", "127.0.0.1:0", "--workers", "2", "--control", "-", "--cache-dir", cache}, flags...)
	return startServe(t, nil, args...)
}

func publish(t *testing.T, flags []string, args ...string) result {
	t.Helper()
	return runBin(t, nil, append(append([]string{"publish"}, args...), flags...)...)
}

// waitFleetRuns waits until the fleet view lists k instances, every one
// running version. fleet --wait alone is not enough before a publish: it
// judges the instances that have reported, and one that started a moment
// ago may not have yet.
func waitFleetRuns(t *testing.T, src string, flags []string, k int, version string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		if reps := fleetJSON(t, src, flags); len(reps) != k || !fleet.Runs(reps, version) {
			return fmt.Errorf("the fleet view lists %d instances, want %d all running %.12s: %+v", len(reps), k, version, reps)
		}
		return nil
	})
}

// fleetJSON is `wasmcluster fleet SRC --json`.
func fleetJSON(t *testing.T, src string, flags []string) []fleet.Report {
	t.Helper()
	r := runBin(t, nil, append([]string{"fleet", src, "--json"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("fleet --json: exit %d: %s", r.code, r.stderr)
	}
	var reps []fleet.Report
	if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil {
		t.Fatalf("fleet --json: %v\n%s", err, r.stdout)
	}
	return reps
}

// Publish rolls three instances (three machines) under a strict load with
// no failed request, every one serving the new version within 5 s of the
// upload (fleet --wait returns, fleet --json shows them); a plugin the
// check refuses is not published; one put into the bucket behind publish's
// back is refused by every instance, which keep serving and show the
// refusal; --rollback re-publishes the version before.
func TestFleetPublish(t *testing.T) {
	t.Parallel()
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	// kv.url at its default: the check has a store, as an instance would.
	if r := publish(t, flags[:2], testkit.TempFile(t, "a.wasm", a), n.source()); r.code != 0 || strings.TrimSpace(r.stdout) != sha(a) {
		t.Fatalf("publish A: exit %d, stdout %q, want %s; stderr %s", r.code, r.stdout, sha(a), r.stderr)
	}
	ss := startFleet(t, n.source(), 3, flags)
	waitFleetRuns(t, n.source(), flags, 3, sha(a))
	loads := startFleetLoads(ss, 6, "version A\n", "version B\n")
	defer stopFleetLoads(loads)

	t0 := time.Now()
	if r := publish(t, flags, testkit.TempFile(t, "b.wasm", b), n.source()); r.code != 0 || strings.TrimSpace(r.stdout) != sha(b) {
		t.Fatalf("publish B: exit %d, stdout %q; stderr %s", r.code, r.stdout, r.stderr)
	}
	uploaded := time.Now()
	// A bounded wait, not a speed target: the upload is done, every
	// instance must serve it within 5 s (BENCHMARKS.md has the timings).
	if r := runBin(t, nil, append([]string{"fleet", n.source(), "--wait", sha(b)[:12], "--timeout", "5s"}, flags...)...); r.code != 0 {
		t.Fatalf("fleet --wait B: not every instance runs B within 5 s of the upload: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("publish B -> 3 instances run it (fleet --wait returned): %v, %v after the upload",
		time.Since(t0).Round(time.Millisecond), time.Since(uploaded).Round(time.Millisecond))
	checkFleetLoads(t, loads, "version B\n")
	reps := fleetJSON(t, n.source(), flags)
	if len(reps) != 3 {
		t.Fatalf("fleet lists %d instances, want 3: %+v", len(reps), reps)
	}
	for _, r := range reps {
		if r.Version != sha(b) || r.WorkersReady != 2 || r.PID == 0 || r.Listen == "" {
			t.Errorf("fleet report %+v, want version %s with 2 workers ready", r, sha(b))
		}
	}

	garbage := testkit.TempFile(t, "garbage.wasm", []byte("\x00asm\x01\x00\x00\x00garbage"))
	r := publish(t, flags, garbage, n.source())
	if r.code != 1 || !strings.Contains(r.stderr, "not published") {
		t.Errorf("publish garbage: exit %d, stderr %q; want 1 and \"not published\"", r.code, r.stderr)
	}
	bypassAndRollback(t, n, flags, ss, b)
}

// bypassAndRollback puts garbage into the bucket without publish's check
// while ss are under load: every instance refuses it, keeps serving b with
// no failed request and says so in the fleet view; --rollback goes back to
// b.
func bypassAndRollback(t *testing.T, n *natsNode, flags []string, ss []*testkit.Server, b []byte) {
	t.Helper()
	loads := startFleetLoads(ss, 4, "version B\n")
	defer stopFleetLoads(loads)
	src, _ := fleet.ParseSource(n.source())
	conn, err := fleet.Dial(src, fleet.Auth{Token: fleetToken})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bad := []byte("not wasm at all")
	if _, err := conn.Publish(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		reps := fleetJSON(t, n.source(), flags)
		if len(reps) != len(ss) {
			return fmt.Errorf("fleet lists %d instances, want %d", len(reps), len(ss))
		}
		for _, r := range reps {
			if r.LastRefused == nil || r.LastRefused.Version != sha(bad) || r.Version != sha(b) {
				return fmt.Errorf("report %+v: want the garbage refused, still on B", r)
			}
		}
		return nil
	})
	checkFleetLoads(t, loads, "version B\n")
	r := runBin(t, nil, append([]string{"fleet", n.source()}, flags...)...)
	if r.code != 0 || strings.Count(r.stdout, digest.Short(sha(bad))+": ") != len(ss) {
		t.Errorf("fleet: exit %d, want %d instances showing the refusal of %s:\n%s", r.code, len(ss), digest.Short(sha(bad)), r.stdout)
	}
	r = runBin(t, nil, append([]string{"fleet", n.source(), "--wait", sha(bad), "--timeout", "1s"}, flags...)...)
	if want := fmt.Sprintf("%d of %d live instances do not run", len(ss), len(ss)); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("fleet --wait for a refused version: exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
	r = publish(t, flags, "--rollback", n.source())
	if r.code != 0 || strings.TrimSpace(r.stdout) != sha(b) {
		t.Errorf("publish --rollback: exit %d, stdout %q, want %s; stderr %s", r.code, r.stdout, sha(b), r.stderr)
	}
}

// NATS down at start: an instance that accepted a version before serves
// it, and rolls to the one published while it was away once NATS is back;
// one that never accepted a version exits 1 saying why.
func TestFleetNATSDownAtStart(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	if r := publish(t, flags, testkit.TempFile(t, "a.wasm", a), n.source()); r.code != 0 {
		t.Fatalf("publish A: exit %d: %s", r.code, r.stderr)
	}
	cache := t.TempDir()
	s := startFleetInstance(t, n.source(), cache, flags)
	if code := s.Stop(); code != 0 {
		t.Fatalf("first instance exited %d", code)
	}
	n.stop()

	r := runBin(t, nil, append([]string{"serve", n.source(), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--cache-dir", t.TempDir()}, flags...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "NATS unreachable") || !strings.Contains(r.stderr, "no version of it was accepted on this machine") {
		t.Errorf("no snapshot, NATS down: exit %d, stderr %q", r.code, r.stderr)
	}

	s = startFleetInstance(t, n.source(), cache, flags)
	if !strings.Contains(s.Log.String(), "serving the last version accepted on this machine") {
		t.Errorf("the fallback is not logged:\n%s", s.Log.String())
	}
	if _, body := get(t, http.DefaultClient, s.URL()); body != "version A\n" {
		t.Fatalf("NATS down at start: answers %q, want the last accepted version A", body)
	}
	n.start(t)
	if r := publish(t, flags, testkit.TempFile(t, "b.wasm", b), n.source()); r.code != 0 {
		t.Fatalf("publish B: exit %d: %s", r.code, r.stderr)
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		if _, body := get(t, http.DefaultClient, s.URL()); body != "version B\n" {
			return fmt.Errorf("answers %q, want version B once NATS is back", body)
		}
		return nil
	})
	restartOnRefused(t, n, s, cache, flags)
}

// An instance restarting while the bucket holds a version its check
// refuses serves the last version it accepted.
func restartOnRefused(t *testing.T, n *natsNode, s *testkit.Server, cache string, flags []string) {
	t.Helper()
	src, _ := fleet.ParseSource(n.source())
	conn, err := fleet.Dial(src, fleet.Auth{Token: fleetToken})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Publish(t.Context(), []byte("not wasm")); err != nil {
		t.Fatal(err)
	}
	s.WaitLog("plugin refused")
	if code := s.Stop(); code != 0 {
		t.Fatalf("instance exited %d", code)
	}
	s = startFleetInstance(t, n.source(), cache, flags)
	if !strings.Contains(s.Log.String(), "the published version is refused here") {
		t.Errorf("the fallback is not logged:\n%s", s.Log.String())
	}
	if _, body := get(t, http.DefaultClient, s.URL()); body != "version B\n" {
		t.Errorf("restarted with a refused version published: answers %q, want the last accepted B", body)
	}
}

// Bad fleet arguments are usage errors naming what is wrong, before any
// connection is tried.
func TestFleetUsageErrors(t *testing.T) {
	plugin := testkit.TempFile(t, "p.wasm", []byte("not used"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "nats://127.0.0.1:1/plu.gins/site"}, `bucket "plu.gins"`},
		{[]string{"serve", "nats://127.0.0.1:1/plugins"}, "want nats://HOST:PORT[,HOST:PORT…]/BUCKET/NAME"},
		{[]string{"serve", "nats://127.0.0.1:1/plugins/site", "--workers", "0"}, `config: workers: "0": a nats:// plugin source needs worker processes`},
		{[]string{"serve", "nats://127.0.0.1:1/plugins/site", "--kv-token-file", "/nonexistent/t"}, `kv.token_file: "/nonexistent/t"`},
		{[]string{"publish", plugin}, "publish takes a plugin (file or source directory) and a nats:// source, got 1"},
		{[]string{"publish", "--rollback", plugin, "nats://127.0.0.1:1/plugins/site"}, "publish --rollback takes the source only, got 2"},
		{[]string{"publish", plugin, "nats://127.0.0.1:1/plugins/si te"}, `name "si te"`},
		{[]string{"fleet", "nats://127.0.0.1:1/plugins/"}, `name ""`},
	}
	for _, tt := range tests {
		r := runBin(t, nil, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// startup systemd takes a nats:// source as it is: the unit serves it.
func TestFleetStartupUnit(t *testing.T) {
	r := runBin(t, nil, "startup", "systemd", "nats://nats.internal:4222/plugins/site", "--binary", "/usr/local/bin/wasmcluster")
	if r.code != 0 || !strings.Contains(r.stdout, "ExecStart=/usr/local/bin/wasmcluster serve nats://nats.internal:4222/plugins/site --control") {
		t.Errorf("exit %d, stderr %q, unit:\n%s", r.code, r.stderr, r.stdout)
	}
	r = runBin(t, nil, "startup", "systemd", "nats://nats.internal:4222/plugins", "--binary", "/usr/local/bin/wasmcluster")
	if r.code != 2 || !strings.Contains(r.stderr, "BUCKET/NAME") {
		t.Errorf("bad source: exit %d, stderr %q", r.code, r.stderr)
	}
}

// publish DIR builds the directory as serve does and publishes the module
// built; a module with no handle_request export is refused by the check.
func TestFleetPublishDir(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "hello.wat"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.wat"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	want := testkit.WATFile(t, filepath.Join("testdata", "hello.wat"))
	r := publish(t, append(flags, "--cache-dir", t.TempDir()), dir, n.source())
	if r.code != 0 || strings.TrimSpace(r.stdout) != sha(want) {
		t.Fatalf("publish DIR: exit %d, stdout %q, want %s; stderr %s", r.code, r.stdout, sha(want), r.stderr)
	}
	r = publish(t, flags, wat(t, "noexport"), n.source())
	if r.code != 1 || !strings.Contains(r.stderr, "not published") {
		t.Errorf("publish of a module without handle_request: exit %d, stderr %q", r.code, r.stderr)
	}
}

// poller GETs an instance every 20 ms and remembers every status seen.
type poller struct {
	stop  chan struct{}
	done  chan struct{}
	codes map[int]int
}

func startPoller(url string) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{}), codes: map[int]int{}}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
				p.codes[resp.StatusCode]++
			}
		}
	}()
	return p
}

func (p *poller) Stop() map[int]int {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	return p.codes
}

// A canary that answers 5xx fails the publish: the other instance never
// rolls and the canary goes back; a good version passes its canary and
// reaches both.
func TestFleetCanary(t *testing.T) {
	n := newNATS(t)
	n.start(t)
	flags := fleetFlags(t)
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	if r := publish(t, flags, testkit.TempFile(t, "a.wasm", a), n.source()); r.code != 0 {
		t.Fatalf("publish A: exit %d: %s", r.code, r.stderr)
	}
	s1 := startFleetInstance(t, n.source(), t.TempDir(), flags)
	s2 := startFleetInstance(t, n.source(), t.TempDir(), flags)
	waitFleetRuns(t, n.source(), flags, 2, sha(a))
	canary, other := s1, s2
	if reps := fleetJSON(t, n.source(), flags); reps[0].PID != s1.Cmd.Process.Pid {
		canary, other = s2, s1
	}
	pc, po := startPoller(canary.URL()), startPoller(other.URL())
	t0 := time.Now()
	r := publish(t, flags, "--canary", "1", "--canary-for", "3s", wat(t, "status503"), n.source())
	codesC, codesO := pc.Stop(), po.Stop()
	t.Logf("canary publish failed after %v; canary answered %v, the other %v", time.Since(t0).Round(time.Millisecond), codesC, codesO)
	if r.code != 1 || !strings.Contains(r.stderr, "canary failed") || !strings.Contains(r.stderr, "5xx") {
		t.Errorf("publish of a 503 version with a canary: exit %d, stderr %q", r.code, r.stderr)
	}
	if codesC[503] == 0 || codesO[503] != 0 || codesO[200] == 0 {
		t.Errorf("canary answered %v, the other %v: want 503s from the canary only", codesC, codesO)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if _, body := get(t, http.DefaultClient, canary.URL()); body != "version A\n" {
			return fmt.Errorf("canary answers %q, want version A back", body)
		}
		return nil
	})
	// Both instances back in the view (a report refreshes every 2 s) before
	// the next canary counts them.
	testkit.Eventually(t, 20*time.Second, func() error {
		if reps := fleetJSON(t, n.source(), flags); len(reps) != 2 {
			return fmt.Errorf("fleet lists %d instances, want 2", len(reps))
		}
		return nil
	})
	t0 = time.Now()
	r = publish(t, flags, "--canary", "1", "--canary-for", "1s", testkit.TempFile(t, "b.wasm", b), n.source())
	t.Logf("canary publish of B took %v", time.Since(t0).Round(time.Millisecond))
	if r.code != 0 || strings.TrimSpace(r.stdout) != sha(b) {
		t.Fatalf("publish B with a canary: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if r := runBin(t, nil, append([]string{"fleet", n.source(), "--wait", sha(b), "--timeout", "20s"}, flags...)...); r.code != 0 {
		t.Errorf("fleet --wait B: exit %d: %s", r.code, r.stderr)
	}
}
