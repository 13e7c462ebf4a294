package balance

import (
	"net"
	"sync"
	"time"
)

// MaxDefer is the longest a worker over its share waits for another to
// take a connection before it accepts it itself. A peer that is busy
// still reaches its accept within this (its netpoller runs between
// requests); a peer that is stalled costs each accept at most this.
const MaxDefer = 2 * time.Millisecond

// deferStep is how long one look away lasts.
const deferStep = 100 * time.Microsecond

// Listener wraps ln so the worker owning slot s accepts only its share
// (see the package comment). With a nil s it is ln.
func Listener(ln net.Listener, s *Slot) net.Listener {
	if s == nil {
		return ln
	}
	s.setAccepting(true)
	return &listener{Listener: ln, slot: s, maxDefer: maxDefer}
}

type listener struct {
	net.Listener
	slot      *Slot
	maxDefer  time.Duration
	closeOnce sync.Once
}

// maxDefer is MaxDefer; tests make it long to see who accepts.
var maxDefer = MaxDefer

func (l *listener) Accept() (net.Conn, error) {
	for waited := time.Duration(0); waited < l.maxDefer && l.slot.overShare(); waited += deferStep {
		time.Sleep(deferStep)
	}
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.slot.add(1)
	return &conn{Conn: c, slot: l.slot}, nil
}

// Close stops accepting: the worker drops out of the share at once, so
// the others take its part of new connections while it drains.
func (l *listener) Close() error {
	l.closeOnce.Do(func() { l.slot.setAccepting(false) })
	return l.Listener.Close()
}

// conn gives its place back when it closes (once, however often Close is
// called: net/http and a hijacker may both close it).
type conn struct {
	net.Conn
	slot *Slot
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.slot.add(-1) })
	return c.Conn.Close()
}

// CloseWrite keeps net/http's graceful close (FIN, then wait) working.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
