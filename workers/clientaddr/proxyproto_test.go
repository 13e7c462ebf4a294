package clientaddr

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serveLines accepts on a wrapped listener and answers each connection
// with "RemoteAddr|first line read" (or "err|…").
func serveLines(t *testing.T, trusted []string, timeout time.Duration) string {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Parse(trusted)
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(raw, tr, timeout)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				addr := c.RemoteAddr().String()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					fmt.Fprintf(c, "err|%v\n", err)
					return
				}
				fmt.Fprintf(c, "%s|%s", addr, line)
			}()
		}
	}()
	return raw.Addr().String()
}

// send writes b and returns the server's answer line ("" if the
// connection was closed without one).
func send(t *testing.T, addr string, b []byte) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(c)
	return strings.TrimSpace(string(out))
}

// v2 builds a PROXY v2 header: command, family, addresses and TLVs.
func v2(cmd, fam byte, addrs []byte, tlvs []byte) []byte {
	b := append([]byte{}, v2sig...)
	b = append(b, 0x20|cmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)+len(tlvs)))
	return append(append(b, addrs...), tlvs...)
}

func TestProxyProtocol(t *testing.T) {
	addr := serveLines(t, []string{"127.0.0.1"}, 10*time.Second)
	v4 := []byte{192, 0, 2, 1, 10, 0, 0, 1, 0x30, 0x39, 0, 80} // 192.0.2.1:12345 -> 10.0.0.1:80
	v6 := make([]byte, 36)
	copy(v6, []byte{0x20, 0x01, 0x0d, 0xb8, 15: 7})
	binary.BigEndian.PutUint16(v6[32:], 443)
	tlv := []byte{0x04, 0, 3, 'a', 'b', 'c'} // PP2_TYPE_NOOP, skipped
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"v1 TCP4", []byte("PROXY TCP4 198.51.100.7 10.0.0.1 56324 80\r\nGET / HTTP/1.1\r\n"), "198.51.100.7:56324|GET / HTTP/1.1"},
		{"v1 TCP6", []byte("PROXY TCP6 2001:db8::5 2001:db8::1 4711 443\r\nhello\n"), "[2001:db8::5]:4711|hello"},
		{"v1 UNKNOWN keeps the peer", []byte("PROXY UNKNOWN\r\nhello\n"), "127.0.0.1:"},
		{"v2 TCP4 with a TLV", append(v2(1, 0x11, v4, tlv), "hi\n"...), "192.0.2.1:12345|hi"},
		{"v2 TCP6", append(v2(1, 0x21, v6, nil), "hi\n"...), "[2001:db8::7]:443|hi"},
		{"v2 LOCAL keeps the peer", append(v2(0, 0x00, nil, nil), "hi\n"...), "127.0.0.1:"},
		{"no header from a trusted peer: plain", []byte("POST / HTTP/1.1\r\n"), "127.0.0.1:"},
		{"v1 without CRLF in 107 bytes", []byte("PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n"), ""},
		{"v1 wrong family", []byte("PROXY TCP4 2001:db8::5 2001:db8::1 1 2\r\nx\n"), ""},
		{"v1 bad port", []byte("PROXY TCP4 1.2.3.4 1.2.3.5 99999 80\r\nx\n"), ""},
		{"v2 bad version", append(append(append([]byte{}, v2sig...), 0x11, 0x11, 0, 12), v4...), ""},
		{"v2 short addresses", v2(1, 0x11, v4[:8], nil), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A malformed header closes the connection without an answer.
			if got := send(t, addr, tt.in); !strings.HasPrefix(got, tt.want) || (tt.want == "") != (got == "") {
				t.Fatalf("answer %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// A peer nobody trusts cannot name a client: its header is not parsed.
func TestProxyProtocolUntrustedPeer(t *testing.T) {
	addr := serveLines(t, []string{"10.0.0.0/8"}, 10*time.Second)
	got := send(t, addr, []byte("PROXY TCP4 198.51.100.7 10.0.0.1 56324 80\r\n"))
	if !strings.HasPrefix(got, "127.0.0.1:") || !strings.HasSuffix(got, "|PROXY TCP4 198.51.100.7 10.0.0.1 56324 80") {
		t.Fatalf("answer %q, want the peer's own address and the header as data", got)
	}
}

// A trusted peer that stays silent is cut off at the header timeout.
func TestProxyProtocolSilentPeer(t *testing.T) {
	addr := serveLines(t, []string{"127.0.0.1"}, 100*time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	// The server closes the connection (EOF), before the client's own
	// deadline.
	out, err := io.ReadAll(c)
	if err != nil || len(out) != 0 {
		t.Fatalf("silent peer got %q, %v; want the connection closed by the server", out, err)
	}
}

func FuzzReadHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"))
	f.Add(v2(1, 0x11, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(b)), 256)
		readHeader(br) // must not panic
	})
}
