package host_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestUninterruptibleWatchdog: with interruption off, a guest that loops
// past its deadline cannot be stopped in-process; the watchdog calls
// OnStuck, and the caller ends the process (here: exit 42). It runs in a
// child process because the spinning guest can never be stopped.
func TestUninterruptibleWatchdog(t *testing.T) {
	if os.Getenv("HOST_TEST_WATCHDOG_CHILD") == "1" {
		watchdogChild(t)
		return
	}
	wat(t, "loop") // skip early without wat2wasm
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestUninterruptibleWatchdog$", "-test.v")
	// No GC in the child: a collection would wait forever for the spinning
	// guest (the freeze a worker's heartbeat catches in production).
	cmd.Env = append(os.Environ(), "HOST_TEST_WATCHDOG_CHILD=1", "GOGC=off")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 42 {
		t.Fatalf("child: %v (want exit 42 from OnStuck)\n%s", err, out)
	}
	if !strings.Contains(string(out), "stuck in the guest") {
		t.Errorf("the stuck request was not logged:\n%s", out)
	}
}

func watchdogChild(t *testing.T) {
	p, err := host.New(context.Background(), wat(t, "loop"), host.Config{
		PoolSize: 2, RequestTimeout: 300 * time.Millisecond, Uninterruptible: true,
		OnStuck: func(age time.Duration) {
			if age < 300*time.Millisecond {
				t.Errorf("OnStuck after %v, before the deadline", age)
			}
			os.Stderr.WriteString("on-stuck called\n")
			os.Exit(42)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go httptestServe(p, get("/", "x-mode", "l"))
	// Other requests are still served while the guest spins (no GC).
	for range 3 {
		wantResponse(t, serve(t, p, get("/fast")), 200, "fast")
	}
	time.Sleep(30 * time.Second) // OnStuck exits long before this
	t.Fatal("OnStuck was not called")
}
