package main

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// connsByWorker is wasmcluster_connections_open per worker slot.
func connsByWorker(t *testing.T, admin string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range scrape(t, admin)["wasmcluster_connections_open"].GetMetric() {
		out[label(m, "worker")] = int(m.GetGauge().GetValue())
	}
	return out
}

// keepAlive dials addr and completes one keep-alive request on it.
func keepAlive(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp.Body.Close()
	return c, nil
}

// A burst of keep-alive clients connecting at once is shared out evenly
// over the workers, not drained by whichever worker ran first; closed
// connections leave the count.
func TestConnectionsBalancedOverWorkers(t *testing.T) {
	plugin := testkit.TempFile(t, "hello.wasm", testkit.HelloWAT(t, "hello"))
	s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--workers", "2", "--control", "-", "--admin", "127.0.0.1:0")
	admin := adminAddr(t, s)
	const clients = 64
	conns := make([]net.Conn, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range conns {
		wg.Go(func() {
			c, err := keepAlive(s.Addr)
			conns[i] = c
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := connsByWorker(t, admin)
	if got["1"]+got["2"] != clients {
		t.Fatalf("connections by worker %v, want %d in all", got, clients)
	}
	// The share is 32 each; a worker over it steps aside for up to 2 ms,
	// so only a peer starved of CPU that long lets it take more.
	if got["1"] < clients/2-8 || got["2"] < clients/2-8 {
		t.Errorf("connections by worker %v: uneven", got)
	}
	for _, c := range conns {
		c.Close()
	}
	testkit.WaitFor(t, 10*time.Second, "no connections left open", func() bool {
		got = connsByWorker(t, admin)
		return got["1"]+got["2"] == 0
	})
}
