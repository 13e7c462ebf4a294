package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// bigVersionWAT answers "version NAME\n" like versionWAT, with size bytes
// of data besides: a module the object store uploads in several chunks, so
// a NATS server can die in the middle of the upload.
func bigVersionWAT(t *testing.T, name string, size int) []byte {
	t.Helper()
	body := "version " + name + "\n"
	return testkit.WAT(t, fmt.Sprintf(`(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") %d)
  (data (i32.const 0) %q)
  (data (i32.const 1024) %q)
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const %d))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`, size/65536+2, body, strings.Repeat(name, size/len(name)), len(body)))
}

// A NATS node dies while a publish uploads, in a three-node cluster whose
// buckets have three replicas: the publish succeeds or fails saying why
// within its timeout; every instance (each given the three nodes) serves
// the version the bucket holds then, and the next publish too, under a
// strict load with no failed request; the history names the live version
// first; the buckets keep their replicas.
func TestFleetNATSNodeKilledDuringPublish(t *testing.T) {
	t.Parallel()
	c := newNATSCluster(t, 3)
	nc, js := c.jetStream(t)
	c.createR3(t, js)
	flags := fleetFlags(t)
	const size = 1 << 20 // eight 128 KiB chunks
	a, b, v3 := bigVersionWAT(t, "A", size), bigVersionWAT(t, "B", size), bigVersionWAT(t, "C", size)
	if r := publish(t, flags, testkit.TempFile(t, "a.wasm", a), c.source()); r.code != 0 {
		t.Fatalf("publish A: exit %d: %s", r.code, r.stderr)
	}
	ss := startFleet(t, c.source(), 3, flags)
	waitFleetRuns(t, c.source(), flags, 3, sha(a))
	loads := startFleetLoads(ss, 4, "version A\n", "version B\n", "version C\n")
	defer stopFleetLoads(loads)

	victim := c.victim(t)
	chunk, err := nc.SubscribeSync("$O.plugins.C.>")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- publish(t, flags, testkit.TempFile(t, "b.wasm", b), c.source()) }()
	if _, err := chunk.NextMsg(30 * time.Second); err != nil {
		t.Fatalf("no chunk of B uploaded: %v", err)
	}
	chunk.Unsubscribe()
	killed := time.Now()
	victim.stop()
	r := <-done
	t.Logf("node %s killed during the upload; publish B exited %d after %v: %s", victim.opts.ServerName, r.code,
		time.Since(killed).Round(time.Millisecond), strings.TrimSpace(r.stderr))
	// Its timeout is kv.timeout (5 s) for the upload, after the check.
	if d := time.Since(killed); d > 15*time.Second {
		t.Errorf("publish B returned %v after the kill, past its timeout", d)
	}
	want := publishedNow(t, c)
	switch {
	case r.code == 0 && want != sha(b):
		t.Errorf("publish B succeeded, the bucket holds %s", want)
	case r.code != 0 && (r.code != 1 || !strings.Contains(r.stderr, "plugins/site")):
		t.Errorf("publish B failed with exit %d, stderr %q: want 1 and an error naming the source", r.code, r.stderr)
	case want != sha(a) && want != sha(b):
		t.Errorf("the bucket holds %s, neither A nor B", want)
	}
	if r := runBin(t, nil, append([]string{"fleet", c.source(), "--wait", want, "--timeout", "12s"}, flags...)...); r.code != 0 {
		t.Fatalf("fleet --wait %s after the kill: exit %d: %s", want[:12], r.code, r.stderr)
	}
	t.Logf("every instance runs %s %v after the kill", want[:12], time.Since(killed).Round(time.Millisecond))
	// Every instance still follows the bucket on the two nodes left.
	t0 := time.Now()
	if r := publish(t, flags, testkit.TempFile(t, "c.wasm", v3), c.source()); r.code != 0 {
		t.Fatalf("publish C on two nodes of three: exit %d: %s", r.code, r.stderr)
	}
	if r := runBin(t, nil, append([]string{"fleet", c.source(), "--wait", sha(v3), "--timeout", "12s"}, flags...)...); r.code != 0 {
		t.Fatalf("fleet --wait C: exit %d: %s", r.code, r.stderr)
	}
	t.Logf("publish C -> every instance runs it: %v", time.Since(t0).Round(time.Millisecond))
	checkFleetLoads(t, loads, "version C\n")
	for _, s := range []string{"OBJ_plugins", "KV_plugins_versions", "KV_plugins_fleet"} {
		if got := replicas(t, js, s); got != 3 {
			t.Errorf("stream %s has %d replicas after publish, want the 3 it was made with", s, got)
		}
	}
}

// victim is the node to kill: the object store's stream leader when an
// instance is connected to it, else a node an instance is connected to.
func (c *natsCluster) victim(t *testing.T) *natsNode {
	t.Helper()
	if l := c.streamLeader("OBJ_plugins"); l != nil && l.fleetClients(t) > 0 {
		t.Logf("victim %s: the object store's leader, %d instance connections", l.opts.ServerName, l.fleetClients(t))
		return l
	}
	for _, n := range c.nodes {
		if k := n.fleetClients(t); k > 0 {
			t.Logf("victim %s: %d instance connections (the leader has none)", n.opts.ServerName, k)
			return n
		}
	}
	t.Fatal("no instance connected to any node")
	return nil
}

// publishedNow is the version the bucket holds under NAME, read once the
// cluster answers again; the history must name it first, whatever became of
// the publish.
func publishedNow(t *testing.T, c *natsCluster) string {
	t.Helper()
	src, err := fleet.ParseSource(c.source())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := fleet.Dial(src, fleet.Auth{Token: fleetToken})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hash string
	testkit.Eventually(t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		_, hash, err = conn.Fetch(ctx, src.Name)
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h, _, err := conn.History(ctx); err != nil || len(h) == 0 || h[0] != hash {
		t.Errorf("history %v (%v) after the kill; want it to start with the live %s", h, err, hash)
	}
	return hash
}
