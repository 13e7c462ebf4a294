package testkit

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rawServer accepts one connection on 127.0.0.1, reads the request line
// and calls answer with the connection; it closes it once the test's
// RawStatus has returned (done).
func rawServer(t *testing.T, answer func(net.Conn)) (addr string, done chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done = make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		bufio.NewReader(c).ReadString('\n')
		answer(c)
		<-done
	}()
	return ln.Addr().String(), done
}

func TestRawStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	got := RawStatus(t, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\n", "Host: x\r\n\r\n")
	if got != "HTTP/1.1 418 I'm a teapot" {
		t.Errorf("RawStatus = %q, want the 418 status line", got)
	}
}

// A server that answers without reading the body it was sent: the status
// line comes back although the 64 MiB request could never be written
// whole (the server reads none of it), and a server that closes without
// answering gives "".
func TestRawStatusReadsWhileWriting(t *testing.T) {
	addr, done := rawServer(t, func(c net.Conn) { c.Write([]byte("HTTP/1.1 413 Too Large\r\n\r\n")) })
	body := strings.Repeat("b", 64<<20)
	got := RawStatus(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n", body)
	close(done)
	if got != "HTTP/1.1 413 Too Large" {
		t.Errorf("early answer: %q, want the 413 status line", got)
	}

	addr, done = rawServer(t, func(c net.Conn) { c.Close() })
	close(done)
	if got := RawStatus(t, addr, "GET / HTTP/1.1\r\n\r\n"); got != "" {
		t.Errorf("no answer: %q, want \"\"", got)
	}
}
