package host

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestLogLimiter: the first record per key per interval goes through; the
// rest of the interval ends in one summary with their count, per key.
func TestLogLimiter(t *testing.T) {
	var out testkit.Buffer
	l := newLogLimiter(slog.New(slog.NewTextHandler(&out, nil)), 50*time.Millisecond)
	for range 5 {
		l.warn("connect", "upstream request failed", slog.String("cause", "connect"))
	}
	l.warn("timeout", "upstream request failed", slog.String("cause", "timeout"))
	testkit.WaitFor(t, 10*time.Second, "the summary of suppressed records", func() bool {
		return strings.Contains(out.String(), "suppressed=4")
	})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want the first connect, the timeout and one summary, got:\n%s", out.String())
	}
	if !strings.Contains(lines[2], "cause=connect suppressed=4") {
		t.Errorf("summary %q", lines[2])
	}
	// A new interval lets the next record through at once.
	l.warn("connect", "upstream request failed", slog.String("cause", "connect"), slog.String("n", "again"))
	if !strings.Contains(out.String(), "n=again") {
		t.Errorf("the next interval suppressed its first record:\n%s", out.String())
	}
}
