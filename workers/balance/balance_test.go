package balance

import (
	"net"
	"testing"
	"time"
)

func newBoard(t *testing.T) *Board {
	t.Helper()
	b, f, err := New(MinSlots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return b
}

func TestOverShare(t *testing.T) {
	b := newBoard(t)
	i, _ := b.Claim()
	j, _ := b.Claim()
	a, o := b.Slot(i), b.Slot(j)
	a.setAccepting(true)
	a.add(40)
	if a.overShare() {
		t.Fatal("the only accepting worker is over its share")
	}
	o.setAccepting(true)
	if !a.overShare() {
		t.Fatalf("40 of 40 connections between 2 accepting workers is not over the share")
	}
	o.add(36) // mean 38, slack 2: 40 is within
	if a.overShare() {
		t.Fatal("40 against 36 is over the share")
	}
	o.setAccepting(false) // draining: out of the share
	if a.overShare() {
		t.Fatal("a draining peer still counts")
	}
	o.setAccepting(true)
	o.add(-36)
	b.Release(j) // exited: its slot is cleared and not accepting
	if a.overShare() || b.Conns(j) != 0 {
		t.Fatalf("a released slot still counts: conns %d", b.Conns(j))
	}
	if k, _ := b.Claim(); k != j {
		t.Fatalf("claim after release = %d, want the freed %d", k, j)
	}
}

func TestClaimAllSlots(t *testing.T) {
	b := newBoard(t)
	for range MinSlots {
		if _, ok := b.Claim(); !ok {
			t.Fatal("claim failed before the table is full")
		}
	}
	if i, ok := b.Claim(); ok || b.Slot(i) != nil {
		t.Fatalf("claim on a full table = %d, %v", i, ok)
	}
}

// twoWorkers is a table with two claimed slots and the socket they share.
func twoWorkers(t *testing.T) (b *Board, raw net.Listener, i, j int) {
	t.Helper()
	b = newBoard(t)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	i, _ = b.Claim()
	j, _ = b.Claim()
	return b, raw, i, j
}

// accepted runs ln's accept loop and sends each connection's local end.
func accepted(ln net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(ch)
				return
			}
			ch <- c
		}
	}()
	return ch
}

// Two workers on one socket: the one holding more than its share leaves
// new connections to the other.
func TestListenerStepsAside(t *testing.T) {
	maxDefer = 5 * time.Second // long enough that only the peer can take them
	t.Cleanup(func() { maxDefer = MaxDefer })
	b, raw, i, j := twoWorkers(t)
	busy, idle := Listener(raw, b.Slot(i)), Listener(raw, b.Slot(j))
	b.Slot(i).add(10) // the busy worker already holds 10 connections
	busyCh, idleCh := accepted(busy), accepted(idle)

	var clients []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		select {
		case <-idleCh:
		case <-busyCh:
			t.Fatalf("the worker over its share accepted (busy %d, idle %d)", b.Conns(i), b.Conns(j))
		case <-time.After(10 * time.Second):
			t.Fatal("nobody accepted")
		}
	}
	if b.Conns(j) != 8 {
		t.Fatalf("idle worker holds %d connections, want 8", b.Conns(j))
	}
	for _, c := range clients {
		c.Close()
	}
	busy.Close()
	idle.Close()
}

// A peer that does not accept never holds a worker back for longer than
// the bound.
func TestListenerAcceptsWhenPeerStalls(t *testing.T) {
	maxDefer = 50 * time.Millisecond
	t.Cleanup(func() { maxDefer = MaxDefer })
	b, raw, i, j := twoWorkers(t)
	ln := Listener(raw, b.Slot(i))
	b.Slot(i).add(10)
	b.Slot(j).setAccepting(true) // accepting, but its loop never runs
	ch := accepted(ln)
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case sc := <-ch:
		if b.Conns(i) != 11 {
			t.Fatalf("conns = %d after the accept, want 11", b.Conns(i))
		}
		sc.Close()
		sc.Close() // twice: counted back once
		if b.Conns(i) != 10 {
			t.Fatalf("conns = %d after closing, want 10", b.Conns(i))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled peer kept the worker from accepting")
	}
	ln.Close()
	if b.word(i, fieldAccepting).Load() != 0 {
		t.Fatal("a closed listener still counts as accepting")
	}
}
