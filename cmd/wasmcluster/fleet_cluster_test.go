package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmcluster/wasmcluster/fleet"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// A three-node JetStream cluster on loopback stands in for the NATS of a
// real fleet: each node is a natsNode (fleet_test.go) routed to the others,
// so one can be killed and the rest keep the replicated buckets.

// natsCluster is size routed JetStream servers.
type natsCluster struct {
	nodes []*natsNode
}

// newNATSCluster starts the cluster. Its ports are picked free before the
// servers start (each route names them all), so another test may take one
// meanwhile: a cluster that does not come up is started again on fresh
// ports.
func newNATSCluster(t testing.TB, size int) *natsCluster {
	t.Helper()
	var err error
	for range 3 {
		var c *natsCluster
		if c, err = tryNATSCluster(t, size); err == nil {
			for _, n := range c.nodes {
				t.Cleanup(n.stop)
			}
			return c
		}
		t.Logf("NATS cluster did not start (%v); again on fresh ports", err)
	}
	t.Fatal(err)
	return nil
}

func tryNATSCluster(t testing.TB, size int) (*natsCluster, error) {
	routePorts, routes := make([]int, size), make([]*url.URL, size)
	for i := range size {
		routePorts[i] = testkit.FreePort(t)
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", routePorts[i])}
	}
	base := t.TempDir()
	c := &natsCluster{}
	for i := range size {
		c.nodes = append(c.nodes, &natsNode{opts: &server.Options{
			ServerName: fmt.Sprintf("fleet-n%d", i), Host: "127.0.0.1", Port: testkit.FreePort(t),
			JetStream: true, StoreDir: filepath.Join(base, fmt.Sprint(i)), JetStreamMaxMemory: 32 << 20,
			Authorization: fleetToken, NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "fleet-test", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:  routes,
		}})
	}
	// Started together: each waits for its routes' JetStream peers.
	errc := make(chan error, size)
	for _, n := range c.nodes {
		go func() { errc <- n.startErr() }()
	}
	var err error
	for range size {
		err = errors.Join(err, <-errc)
	}
	if err != nil {
		for _, n := range c.nodes {
			n.stop()
		}
		return nil, err
	}
	return c, nil
}

// startErr is start for a goroutine: it returns what start fails with.
func (n *natsNode) startErr() error {
	o := *n.opts
	ns, err := server.NewServer(&o)
	if err != nil {
		return err
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("NATS %s not ready", n.opts.ServerName)
	}
	n.ns = ns
	return nil
}

func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port) }

// source is the plugin source naming every node, as a real fleet's
// instances would.
func (c *natsCluster) source() string {
	var hosts []string
	for _, n := range c.nodes {
		hosts = append(hosts, strings.TrimPrefix(n.url(), "nats://"))
	}
	return "nats://" + strings.Join(hosts, ",") + "/plugins/site"
}

// jetStream connects the test itself to every node.
func (c *natsCluster) jetStream(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, n.url())
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Token(fleetToken), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// createR3 makes the source's object store and its two KV buckets with
// three replicas, as an operator of a real fleet would (`nats object add
// --replicas 3` …) before the first publish: a bucket publish creates
// itself has one. It retries while the cluster elects its meta leader.
func (c *natsCluster) createR3(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "plugins", Replicas: 3}); err != nil {
			return fmt.Errorf("object store: %w", err)
		}
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "plugins_versions", Replicas: 3}); err != nil {
			return fmt.Errorf("versions bucket: %w", err)
		}
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "plugins_fleet", Replicas: 3, TTL: fleet.ReportTTL}); err != nil {
			return fmt.Errorf("fleet bucket: %w", err)
		}
		return nil
	})
}

// replicas is the replica count of stream name now.
func replicas(t testing.TB, js jetstream.JetStream, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo().Config.Replicas
}

// streamLeader is the node leading stream name ("" account: the global one).
func (c *natsCluster) streamLeader(name string) *natsNode {
	for _, n := range c.nodes {
		if n.ns != nil && n.ns.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, name) {
			return n
		}
	}
	return nil
}

// fleetClients is the number of connections named wasmcluster-fleet
// (instances, publish and fleet commands) on n.
func (n *natsNode) fleetClients(t testing.TB) int {
	t.Helper()
	cz, err := n.ns.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, ci := range cz.Conns {
		if ci.Name == "wasmcluster-fleet" {
			k++
		}
	}
	return k
}
