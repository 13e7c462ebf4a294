package httpserve

import (
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Upgraded connections (a WebSocket that next proxied) are streams, not
// requests. The server keeps them in a set so that the drain's cap can end
// them politely: a WebSocket gets a close frame 1001 "going away" (what a
// browser reports as a server going down) before its connection closes;
// other protocols are just closed.

// goingAway is a server-to-client WebSocket close frame (RFC 6455 §5.5.1):
// FIN + opcode 8, unmasked, a 12-byte payload of status 1001 and a reason.
var goingAway = append([]byte{0x88, 12, 0x03, 0xE9}, "going away"...)

// streamGrace is how long a drain at its cap waits, after sending close
// frames, for clients to answer them and the proxy to end the streams
// before it closes them: closing at once could reset the connection and
// lose the frame.
const streamGrace = 500 * time.Millisecond

// streamSet is the server's open upgraded connections.
type streamSet struct {
	mu    sync.Mutex
	open  map[*streamConn]struct{}
	total atomic.Uint64
}

func (s *streamSet) add(c *streamConn) {
	s.total.Add(1)
	s.mu.Lock()
	if s.open == nil {
		s.open = make(map[*streamConn]struct{})
	}
	s.open[c] = struct{}{}
	s.mu.Unlock()
}

func (s *streamSet) remove(c *streamConn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
}

// goAway tells every open stream's client that the server is leaving.
func (s *streamSet) goAway() int {
	s.mu.Lock()
	conns := make([]*streamConn, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.goAway()
	}
	return len(conns)
}

// streamConn is a hijacked connection as the proxy writes to it. For a
// WebSocket it follows the frames the upstream sends, so a close frame is
// only ever inserted between two frames, never inside one.
type streamConn struct {
	net.Conn
	ws      bool
	mu      sync.Mutex
	frames  frameTracker
	leaving bool // goAway ran: later writes fail
}

// isWebSocket reports whether r asks to upgrade to WebSocket.
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header["Upgrade"] {
		if strings.Contains(strings.ToLower(v), "websocket") {
			return true
		}
	}
	return false
}

func (c *streamConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaving {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Write(b)
	if c.ws {
		c.frames.advance(b[:n])
	}
	return n, err
}

// goAway sends the close frame where the protocol allows it and stops
// further writes. A write stuck on a client that reads nothing is
// released first by a write deadline.
func (c *streamConn) goAway() {
	c.Conn.SetWriteDeadline(time.Now().Add(streamGrace))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaving {
		return
	}
	c.leaving = true
	if c.ws && c.frames.atBoundary() {
		c.Conn.Write(goingAway)
	}
}

// frameTracker follows WebSocket frame boundaries in a byte stream: the
// header (2 bytes, then 2 or 8 of extended length, then 4 of mask if
// set), then the payload.
type frameTracker struct {
	hdr  [14]byte
	hn   int    // header bytes seen
	need int    // header length, once its first two bytes are seen
	left uint64 // payload bytes still to come
}

func (f *frameTracker) advance(b []byte) {
	for len(b) > 0 {
		if f.left > 0 {
			n := min(uint64(len(b)), f.left)
			f.left -= n
			b = b[n:]
			continue
		}
		f.hdr[f.hn] = b[0]
		f.hn++
		b = b[1:]
		if f.hn == 2 {
			f.need = 2
			switch f.hdr[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
			if f.hdr[1]&0x80 != 0 {
				f.need += 4
			}
		}
		if f.hn >= 2 && f.hn == f.need {
			f.left = uint64(f.hdr[1] & 0x7f)
			switch f.left {
			case 126:
				f.left = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
			case 127:
				f.left = binary.BigEndian.Uint64(f.hdr[2:10])
			}
			f.hn, f.need = 0, 0
		}
	}
}

// atBoundary reports whether the next byte would start a frame.
func (f *frameTracker) atBoundary() bool { return f.hn == 0 && f.left == 0 }
