package workers

import (
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/systemd"
)

// The watchdog pings only while the supervisor loop answers: a wedged
// loop (nobody reading cmds) gets no pings, a running one does.
func TestWatchdogFollowsSupervisor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, err := systemd.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	l := newLoop()
	sd := &notifier{n: n, log: slog.New(slog.DiscardHandler)}
	defer close(l.quit)
	go sd.watchdog(20*time.Millisecond, &l)

	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if k, err := conn.Read(buf); err == nil {
		t.Fatalf("ping while the supervisor loop is wedged: %q", buf[:k])
	}

	go func() { // the loop runs again
		for {
			select {
			case f := <-l.cmds:
				f()
			case <-l.quit:
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, err := conn.Read(buf)
	if err != nil || string(buf[:k]) != "WATCHDOG=1\n" {
		t.Fatalf("no watchdog ping from a responsive loop: %q, %v", buf[:k], err)
	}
}
