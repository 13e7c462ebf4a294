package wstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The echo answers each message, text and binary, with the same message
// and type, on several sockets at once.
func TestEcho(t *testing.T) {
	srv := Echo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := srv.Listener.Addr().String()
	a, b := Dial(ctx, t, addr), Dial(ctx, t, addr)
	for i, c := range []*websocket.Conn{a, b, a} {
		if err := RoundTrip(ctx, c, strings.Repeat("x", i+1)); err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
	}
	if err := b.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if typ, got, err := b.Read(ctx); err != nil || typ != websocket.MessageBinary || string(got) != "\x00\x01\x02" {
		t.Fatalf("binary echo: %v %q %v", typ, got, err)
	}
}

// RoundTrip reports an answer that is not the message sent: a server that
// sends something else fails it.
func TestRoundTripChecksTheEcho(t *testing.T) {
	srv := Echo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := Dial(ctx, t, srv.Listener.Addr().String())
	// The echo of "one" is still unread when "two" is checked.
	if err := c.Write(ctx, websocket.MessageText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := RoundTrip(ctx, c, "two"); err == nil || !strings.Contains(err.Error(), `echo "one", want "two"`) {
		t.Fatalf("RoundTrip with a stale echo: %v, want a mismatch", err)
	}
}
