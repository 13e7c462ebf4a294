package wstest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"
)

// Handler accepts a WebSocket and echoes it (EchoConn).
func Handler(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	EchoConn(c)
}

// EchoConn sends every message read from c back on it until either fails,
// for handlers that do more than echo (count sockets, route by path).
func EchoConn(c *websocket.Conn) {
	for {
		typ, msg, err := c.Read(context.Background())
		if err != nil {
			return
		}
		if c.Write(context.Background(), typ, msg) != nil {
			return
		}
	}
}

// Echo starts a WebSocket echo upstream, closed with its connections when
// the test ends (requests not upgraded; an upgraded one ends with its
// client).
func Echo(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(Handler))
	tb.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// Dial opens a WebSocket to ws://addr/, failing the test if it cannot; the
// connection is closed when the test ends.
func Dial(ctx context.Context, tb testing.TB, addr string) *websocket.Conn {
	tb.Helper()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		tb.Fatalf("dial ws://%s/: %v", addr, err)
	}
	tb.Cleanup(func() { c.CloseNow() })
	return c
}

// RoundTrip sends msg as text on c and checks that the same comes back.
func RoundTrip(ctx context.Context, c *websocket.Conn, msg string) error {
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}
