package natskv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/kvtest"
)

// TestClusterConformance runs the suite against a 3-node NATS cluster with
// a bucket of 3 replicas, each store given every node's URL.
func TestClusterConformance(t *testing.T) {
	nodes := startCluster(t, 3)
	cfg := kv.Config{URL: clusterURL(nodes), Replicas: 3, Token: token, Bucket: "conformance", Timeout: 10 * time.Second}
	waitHealthy(t, openStore(t, cfg), 60*time.Second)
	kvtest.Run(t, func(t *testing.T) kv.Store {
		st := openStore(t, cfg)
		if st.Backend() != "nats" {
			t.Fatalf("Backend() = %q", st.Backend())
		}
		return st
	})
}

// TestOutage: a server that is down at Open does not fail Open; the store
// reports unavailable, recovers when the server comes up, reports an
// outage again within its timeout, and recovers with the data after a
// restart on the same port and dir.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	opts := newOptions(t, "solo", t.TempDir(), testkit.FreePort(t))
	cfg := kv.Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", opts.Port), Token: token, Timeout: time.Second}
	st := openStore(t, cfg)
	if err := st.Health(ctx); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Health with no server = %v, want ErrUnavailable", err)
	}
	if _, err := st.Set(ctx, []byte("k"), []byte("v"), 0); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Set with no server = %v, want ErrUnavailable", err)
	}
	n := startNode(t, opts)
	waitHealthy(t, st, 30*time.Second)
	if _, err := st.Set(ctx, []byte("k"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	n.stop()
	for _, call := range []func() error{
		func() error { return st.Health(ctx) },
		func() error { _, _, err := st.Get(ctx, []byte("k")); return err },
		func() error { _, err := st.Incr(ctx, []byte("n"), 1, 0); return err },
	} {
		if err := call(); !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("during the outage: %v, want ErrUnavailable", err)
		}
	}
	startNode(t, opts)
	waitHealthy(t, st, 30*time.Second)
	if v, _, err := st.Get(ctx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("after the outage: Get = %q, %v", v, err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  kv.Config
		want string
	}{
		{kv.Config{URL: "nats://127.0.0.1:1", Replicas: 2}, "kv.replicas = 2"},
		{kv.Config{URL: "nats://127.0.0.1:1,http://x"}, `kv.url = "nats://127.0.0.1:1,http://x"`},
		{kv.Config{URL: "nats://127.0.0.1:1", NKeyFile: "/nonexistent/seed"}, `kv.nkey_file = "/nonexistent/seed"`},
		{kv.Config{URL: "nats://127.0.0.1:1", Bucket: "a.b"}, `kv.bucket = "a.b"`},
		{kv.Config{URL: "nats://127.0.0.1:1", MaxValue: -1}, "kv.max_value = -1"},
		{kv.Config{URL: "embedded"}, `kv.url = "embedded": natskv needs`},
		{kv.Config{URL: "redis://127.0.0.1:1"}, `kv.url = "redis://127.0.0.1:1": natskv needs`},
	} {
		_, err := openNoCleanup(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}
