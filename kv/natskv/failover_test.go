package natskv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/natskv"
)

func openNoCleanup(cfg kv.Config) (*natskv.Store, error) {
	return natskv.Open(context.Background(), cfg)
}

// ack is a write the store acknowledged.
type ack struct {
	key, value string
}

// TestFailover writes in a loop to a 3-replica bucket, shuts a node down,
// and keeps writing until 50 writes in a row succeed: every acknowledged
// write is still readable, errors came only after the kill and are
// ErrUnavailable, and the counter moved by the acknowledged increments
// plus at most the ones whose outcome was unknown. The node is the
// bucket's stream leader (a Raft election) or the one the store is
// connected to (a reconnect to another URL).
func TestFailover(t *testing.T) {
	for _, tc := range []struct {
		name string
		pick func(t *testing.T, nodes []*node) *node
	}{
		{"leader", func(t *testing.T, nodes []*node) *node { return leaderOf(t, nodes, "KV_failover") }},
		{"connected", connectedNode},
	} {
		t.Run(tc.name, func(t *testing.T) { failover(t, tc.pick) })
	}
}

func failover(t *testing.T, pick func(*testing.T, []*node) *node) {
	nodes := startCluster(t, 3)
	cfg := kv.Config{URL: clusterURL(nodes), Replicas: 3, Token: token, Bucket: "failover", Timeout: 2 * time.Second}
	st := openStore(t, cfg)
	waitHealthy(t, st, 60*time.Second)
	ctx := context.Background()

	var acks []ack
	var incrAcks, incrUnknown, errs int
	killed, streak := false, 0
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; streak < 50 || !killed; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no 50 writes in a row within 90s after the failover (%d errors)", errs)
		}
		if i == 100 {
			victim := pick(t, nodes)
			t.Logf("shutting down %s", victim.opts.ServerName)
			victim.stop()
			killed = true
		}
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		_, err := st.Set(ctx, []byte(k), []byte(v), 0)
		if err == nil {
			if _, err = st.Incr(ctx, []byte("counter"), 1, 0); err != nil {
				incrUnknown++
			} else {
				incrAcks++
			}
		}
		if err != nil {
			if !killed || !errors.Is(err, kv.ErrUnavailable) {
				t.Fatalf("write %d (killed=%v): %v", i, killed, err)
			}
			errs, streak = errs+1, 0
			time.Sleep(20 * time.Millisecond)
			continue
		}
		acks = append(acks, ack{k, v})
		if killed {
			streak++
		}
	}
	t.Logf("%d writes acknowledged, %d errors during the failover", len(acks), errs)
	checkAcks(t, st, acks, incrAcks, incrUnknown)
}

func checkAcks(t *testing.T, st kv.Store, acks []ack, incrAcks, incrUnknown int) {
	t.Helper()
	ctx := context.Background()
	for _, a := range acks {
		v, _, err := st.Get(ctx, []byte(a.key))
		if err != nil || string(v) != a.value {
			t.Fatalf("acknowledged %s=%s reads %q, %v", a.key, a.value, v, err)
		}
	}
	n, err := st.Incr(ctx, []byte("counter"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n < int64(incrAcks) || n > int64(incrAcks+incrUnknown) {
		t.Fatalf("counter = %d after %d acknowledged increments and %d unknown", n, incrAcks, incrUnknown)
	}
}

// leaderOf is the node leading stream.
func leaderOf(t *testing.T, nodes []*node, stream string) *node {
	t.Helper()
	for _, n := range nodes {
		if n.ns.JetStreamIsStreamLeader("$G", stream) {
			return n
		}
	}
	t.Fatalf("no node leads %s", stream)
	return nil
}

// connectedNode is the node holding the test's only client connection.
func connectedNode(t *testing.T, nodes []*node) *node {
	t.Helper()
	for _, n := range nodes {
		if n.ns.NumClients() > 0 {
			return n
		}
	}
	t.Fatal("no node has the store's connection")
	return nil
}
