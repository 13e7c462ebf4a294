package systemd

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// listenNotify opens a real unixgram socket like systemd's and points
// NOTIFY_SOCKET at it.
func listenNotify(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

func readDatagram(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read notify datagram: %v", err)
	}
	return string(buf[:n])
}

func TestNotifierSendsStatesInOrder(t *testing.T) {
	conn := listenNotify(t)
	n, err := NewNotifier()
	if err != nil || n == nil {
		t.Fatalf("NewNotifier: %v, %v", n, err)
	}
	defer n.Close()
	if err := n.Ready("serving"); err != nil {
		t.Fatal(err)
	}
	if err := n.Reloading("rolling"); err != nil {
		t.Fatal(err)
	}
	if err := n.Stopping("draining"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"READY=1", "RELOADING=1", "STOPPING=1"} {
		got := readDatagram(t, conn)
		if !strings.HasPrefix(got, want+"\n") || !strings.Contains(got, "STATUS=") {
			t.Errorf("datagram %q, want it to start with %s and carry STATUS=", got, want)
		}
	}
	if err := n.Notify("bad"); err == nil {
		t.Error("malformed state accepted")
	}
}

func TestNotifierAbsentIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n, err := NewNotifier()
	if err != nil || n != nil {
		t.Fatalf("NewNotifier without NOTIFY_SOCKET = %v, %v; want nil, nil", n, err)
	}
	if err := n.Ready("x"); err != nil { // nil receiver is valid
		t.Fatal(err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if d, err := WatchdogInterval(); err != nil || d != 15*time.Second {
		t.Errorf("WatchdogInterval = %v, %v; want 15s", d, err)
	}
	t.Setenv("WATCHDOG_PID", "1")
	if d, _ := WatchdogInterval(); d != 0 {
		t.Errorf("watchdog for another pid: %v, want 0", d)
	}
	t.Setenv("WATCHDOG_PID", "")
	t.Setenv("WATCHDOG_USEC", "x")
	if _, err := WatchdogInterval(); err == nil {
		t.Error("bad WATCHDOG_USEC accepted")
	}
}

// TestUnitsVerify runs the generated units through systemd-analyze verify.
func TestUnitsVerify(t *testing.T) {
	analyze := testkit.Require(t, "systemd-analyze")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, socket := range []bool{false, true} {
		dir := t.TempDir()
		o := UnitOptions{Name: "wasmcluster-test", Binary: bin, Plugin: "/srv/plugins/hello world.wasm",
			Listen: "127.0.0.1:8080", Socket: socket, DrainTimeout: 20 * time.Second}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		svc := ServiceUnit(o)
		for _, want := range []string{"Type=notify", "ExecReload=", "reload --wait", "WatchdogSec=30",
			"TimeoutStopSec=35", "KillMode=mixed", `"/srv/plugins/hello world.wasm"`} {
			if !strings.Contains(svc, want) {
				t.Errorf("service unit lacks %q:\n%s", want, svc)
			}
		}
		files := []string{filepath.Join(dir, "wasmcluster-test.service")}
		if err := os.WriteFile(files[0], []byte(svc), 0o644); err != nil {
			t.Fatal(err)
		}
		if socket {
			files = append(files, filepath.Join(dir, "wasmcluster-test.socket"))
			if err := os.WriteFile(files[1], []byte(SocketUnit(o)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, files...)...)
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify (socket=%v): %v\n%s\n--- unit ---\n%s", socket, err, out, svc)
		}
	}
}

func TestValidateNeedsAbsolutePaths(t *testing.T) {
	if err := (UnitOptions{Binary: "wasmcluster", Plugin: "/p.wasm"}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "binary") {
		t.Errorf("relative binary: %v", err)
	}
	if err := (UnitOptions{Binary: "/bin/wasmcluster", Plugin: "p.wasm"}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "plugin") {
		t.Errorf("relative plugin: %v", err)
	}
}
