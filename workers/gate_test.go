package workers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalHandler closes a channel when a log record's message contains text
// (the primary re-logs worker lines with their message).
type signalHandler struct {
	slog.Handler
	text string
	once *sync.Once
	ch   chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.text) {
		h.once.Do(func() { close(h.ch) })
	}
	return h.Handler.Handle(ctx, r)
}
func (h signalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.Handler = h.Handler.WithAttrs(as)
	return h
}
func (h signalHandler) WithGroup(g string) slog.Handler {
	h.Handler = h.Handler.WithGroup(g)
	return h
}

// heldLogger returns a logger and a channel closed once a worker reports it
// loaded the plugin and waits for the gate.
func heldLogger() (*slog.Logger, <-chan struct{}) {
	ch := make(chan struct{})
	h := signalHandler{Handler: testLogger().Handler(), text: "waiting for the primary's check", once: new(sync.Once), ch: ch}
	return slog.New(h), ch
}

// startGated runs a primary whose Gate returns what gate receives.
func startGated(t *testing.T, gate chan error) (*Primary, <-chan error, <-chan struct{}, <-chan struct{}) {
	t.Helper()
	opts := baseOptions(t, 2)
	var held <-chan struct{}
	opts.Logger, held = heldLogger()
	opts.Gate = func(ctx context.Context) error {
		select {
		case err := <-gate:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ready := make(chan struct{})
	opts.OnReady = func(net.Addr) { close(ready) }
	pr, err := NewPrimary(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		done <- pr.Run(ctx)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Errorf("primary did not stop within 30s")
		}
	})
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("primary returned before a worker was held: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no worker reported it was held within 20s")
	}
	return pr, done, held, ready
}

// noAnswer checks that a request gets no answer: nothing accepts yet.
func noAnswer(t *testing.T, pr *Primary) {
	t.Helper()
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := c.Get(url(pr)); err == nil {
		resp.Body.Close()
		t.Fatalf("a held worker answered %d before the gate passed", resp.StatusCode)
	}
}

// Workers started before the gate passes load the plugin, then wait without
// accepting; once it passes they serve.
func TestGateHoldsWorkersUntilItPasses(t *testing.T) {
	gate := make(chan error, 1)
	pr, _, _, ready := startGated(t, gate)
	noAnswer(t, pr)
	for _, w := range pr.Status().Workers {
		if w.State == string(stateReady) {
			t.Fatalf("worker %d ready before the gate passed", w.ID)
		}
	}
	gate <- nil
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("not ready within 20s of the gate passing: %+v", pr.Status())
	}
	resp, err := http.Get(url(pr))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the gate: %d", resp.StatusCode)
	}
}

// A gate that refuses stops the held workers, which never served, and Run
// returns its error.
func TestGateRefusalStops(t *testing.T) {
	gate := make(chan error, 1)
	pr, done, _, _ := startGated(t, gate)
	noAnswer(t, pr)
	gate <- errors.New("refused by the test")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "refused by the test") {
			t.Fatalf("Run returned %v, want the gate's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Run did not return within 20s of the refusal: %+v", pr.Status())
	}
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(url(pr)); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d after a refused gate", resp.StatusCode)
	}
}
