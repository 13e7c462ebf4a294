package admin

import (
	"net"
	"testing"
	"time"
)

// Connections the kernel accepted but nobody accept()ed yet show up as the
// listen backlog.
func TestBacklog(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ino := socketInode(ln)
	if q, ok := backlog(ino); !ok || q != 0 {
		t.Fatalf("idle listener: backlog %d, %v", q, ok)
	}
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, ok := backlog(ino)
		if ok && q == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %d (%v), want 3", q, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := backlog(0); ok {
		t.Error("backlog of inode 0 reported")
	}
}
