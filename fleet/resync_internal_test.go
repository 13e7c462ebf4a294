package fleet

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// resync fetches a version its watch missed (here: no watch runs at all),
// once; and does not fetch again a version the instance fell back from.
func TestResync(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: 16 << 20, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	src, _ := ParseSource(ns.ClientURL() + "/plugins/site")
	c, err := Dial(src, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.WaitConnected(t.Context(), 10*time.Second) {
		t.Fatal("not connected")
	}
	if _, err := c.Publish(t.Context(), []byte("one")); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	m, err := NewMirror(c, t.TempDir(), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	fetches := func() int { return strings.Count(log.String(), "is not the one fetched last") }
	step := func(what, want string, n int) {
		t.Helper()
		m.resync(t.Context())
		if b, _ := os.ReadFile(m.File()); string(b) != want || fetches() != n {
			t.Errorf("%s: file holds %q after %d fetches, want %q after %d", what, b, fetches(), want, n)
		}
	}
	step("up to date", "one", 0)
	two, _ := c.Publish(t.Context(), []byte("two"))
	step("a version the watch missed", "two", 1)
	step("again", "two", 1)
	m.Accepted(two)
	if _, err := c.Publish(t.Context(), []byte("three")); err != nil {
		t.Fatal(err)
	}
	step("the next", "three", 2)
	if !m.FallBack() { // as serve does when "three" is refused at start
		t.Fatal("no fall back to the accepted version")
	}
	step("after falling back from it", "two", 2)
}
