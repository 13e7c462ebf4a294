package clientaddr

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// v2sig starts every PROXY protocol v2 header.
var v2sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxV1 is the longest v1 header, CRLF included (the spec's 107 bytes).
const maxV1 = 107

// Listen wraps ln: a connection from a peer in trusted may begin with a
// PROXY protocol header (v1 or v2), read within timeout, whose source
// address becomes the connection's RemoteAddr. A trusted peer that sends
// no header is served as it is; a connection whose header is malformed or
// late is closed. Connections from other peers are not touched.
func Listen(ln net.Listener, trusted Trusted, timeout time.Duration) net.Listener {
	return &proxyListener{Listener: ln, trusted: trusted, timeout: timeout}
}

type proxyListener struct {
	net.Listener
	trusted Trusted
	timeout time.Duration
}

func (l *proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil || !l.trusted.Contains(ap.Addr()) {
		return c, nil
	}
	// The header is read on first use, on the connection's own goroutine:
	// Accept never waits for a peer.
	return &proxyConn{Conn: c, timeout: l.timeout}, nil
}

// proxyConn reads its PROXY header on first Read or RemoteAddr.
type proxyConn struct {
	net.Conn
	timeout time.Duration
	once    sync.Once
	br      *bufio.Reader
	remote  net.Addr // from the header; nil: the peer's own
	err     error
}

func (c *proxyConn) init() {
	c.once.Do(func() {
		c.br = bufio.NewReaderSize(c.Conn, 256)
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		c.remote, c.err = readHeader(c.br)
		c.Conn.SetReadDeadline(time.Time{})
		if c.err != nil {
			c.err = fmt.Errorf("PROXY protocol header from %s: %w", c.Conn.RemoteAddr(), c.err)
			c.Conn.Close()
		}
	})
}

func (c *proxyConn) Read(b []byte) (int, error) {
	c.init()
	if c.err != nil {
		return 0, c.err
	}
	if c.br.Buffered() > 0 {
		return c.br.Read(b)
	}
	return c.Conn.Read(b)
}

func (c *proxyConn) RemoteAddr() net.Addr {
	c.init()
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// CloseWrite keeps net/http's graceful close working.
func (c *proxyConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

var errV1 = errors.New("malformed v1 header")

// readHeader reads a v1 or v2 header if br starts with one; nil, nil when
// it starts with something else (plain HTTP). The address is nil for a
// header that names no client (v1 UNKNOWN, v2 LOCAL or a family other
// than TCP over IPv4/IPv6).
func readHeader(br *bufio.Reader) (net.Addr, error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	switch first[0] {
	case 'P':
		if p, err := br.Peek(6); err == nil && string(p) == "PROXY " {
			return readV1(br)
		}
	case '\r':
		if p, err := br.Peek(len(v2sig)); err == nil && bytes.Equal(p, v2sig) {
			return readV2(br)
		}
	}
	return nil, nil
}

// readV1 reads "PROXY TCP4|TCP6 src dst sport dport\r\n" or
// "PROXY UNKNOWN…\r\n", at most maxV1 bytes.
func readV1(br *bufio.Reader) (net.Addr, error) {
	// ReadSlice, not Peek(maxV1): a short header and request may be all
	// the peer sends before it waits for the answer.
	line, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read v1 header: %w", err)
	}
	if err != nil || len(line) > maxV1 || !bytes.HasSuffix(line, []byte("\r\n")) {
		return nil, fmt.Errorf("%w: no CRLF within %d bytes", errV1, maxV1)
	}
	s := string(line[:len(line)-2])
	f := strings.Split(s, " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return nil, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, fmt.Errorf("%w: %q", errV1, s)
	}
	src, err := netip.ParseAddr(f[2])
	if err != nil || src.Is4() != (f[1] == "TCP4") {
		return nil, fmt.Errorf("%w: source address %q", errV1, f[2])
	}
	port, err := strconv.ParseUint(f[4], 10, 16)
	if err != nil || (len(f[4]) > 1 && f[4][0] == '0') {
		return nil, fmt.Errorf("%w: source port %q", errV1, f[4])
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, uint16(port))), nil
}

// readV2 reads a binary header: signature, version/command, family,
// length, addresses, then TLVs, which are skipped.
func readV2(br *bufio.Reader) (net.Addr, error) {
	var h [16]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, fmt.Errorf("read v2 header: %w", err)
	}
	if h[12]>>4 != 2 {
		return nil, fmt.Errorf("v2 header: version %d", h[12]>>4)
	}
	cmd, fam := h[12]&0x0f, h[13]
	n := int(binary.BigEndian.Uint16(h[14:16]))
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, fmt.Errorf("read v2 addresses (%d bytes): %w", n, err)
	}
	switch {
	case cmd == 0: // LOCAL: the proxy's own connection (a health check)
		return nil, nil
	case cmd != 1:
		return nil, fmt.Errorf("v2 header: command %d", cmd)
	}
	switch fam {
	case 0x11: // TCP over IPv4
		if n < 12 {
			return nil, fmt.Errorf("v2 header: %d bytes for IPv4 addresses", n)
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10]))), nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return nil, fmt.Errorf("v2 header: %d bytes for IPv6 addresses", n)
		}
		src := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34]))), nil
	}
	return nil, nil // UNSPEC, UDP, unix: no client address to take
}
