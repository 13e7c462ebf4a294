package natskv_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/natskv"
)

const token = "kvtest-token"

// node is one in-process NATS server with JetStream.
type node struct {
	opts *server.Options
	ns   *server.Server
}

func newOptions(t *testing.T, name, dir string, port int) *server.Options {
	return &server.Options{
		ServerName: name, Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir, JetStreamMaxMemory: 32 << 20,
		Authorization: token, MaxPayload: 2 << 20,
		NoSigs: true, NoLog: true,
	}
}

// startNode starts (or restarts, with the same options) a server.
func startNode(t *testing.T, opts *server.Options) *node {
	t.Helper()
	n, err := tryNode(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	return n
}

// tryNode starts a server and waits until it listens.
func tryNode(opts *server.Options) (*node, error) {
	o := *opts
	ns, err := server.NewServer(&o)
	if err != nil {
		return nil, err
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("server %s not ready", opts.ServerName)
	}
	return &node{opts: opts, ns: ns}, nil
}

func (n *node) stop() {
	n.ns.Shutdown()
	n.ns.WaitForShutdown()
}

func (n *node) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port) }

// startCluster starts size servers routed to each other on loopback. The
// ports are picked free before the servers start (each route names them
// all), so another test may take one meanwhile: a cluster that does not
// come up is started again on fresh ports.
func startCluster(t *testing.T, size int) []*node {
	t.Helper()
	var err error
	for range 3 {
		var nodes []*node
		if nodes, err = tryCluster(t, size); err == nil {
			for _, n := range nodes {
				t.Cleanup(n.stop)
			}
			return nodes
		}
		t.Logf("cluster did not start (%v); again on fresh ports", err)
	}
	t.Fatal(err)
	return nil
}

func tryCluster(t *testing.T, size int) ([]*node, error) {
	ports, routes := make([]int, size), make([]*url.URL, size)
	for i := range size {
		ports[i] = testkit.FreePort(t)
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])}
	}
	base := t.TempDir()
	nodes := make([]*node, 0, size)
	for i := range size {
		opts := newOptions(t, fmt.Sprintf("n%d", i), filepath.Join(base, fmt.Sprint(i)), testkit.FreePort(t))
		opts.Cluster = server.ClusterOpts{Name: "kvtest", Host: "127.0.0.1", Port: ports[i]}
		opts.Routes = routes
		n, err := tryNode(opts)
		if err != nil {
			for _, n := range nodes {
				n.stop()
			}
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func clusterURL(nodes []*node) string {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url())
	}
	return strings.Join(urls, ",")
}

func openStore(t *testing.T, cfg kv.Config) *natskv.Store {
	t.Helper()
	st, err := natskv.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitHealthy polls Health until the store answers.
func waitHealthy(t *testing.T, st kv.Store, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		err := st.Health(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store not healthy after %v: %v", bound, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
