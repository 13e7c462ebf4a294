package testkit

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// A pair WriteLeaf wrote loads, a server with it is trusted by the CA's
// client config for the leaf's names only, and TLSServing reports its
// serial; every leaf gets a new serial.
func TestCALeaf(t *testing.T) {
	ca := NewCA(t)
	dir := t.TempDir()
	l := ca.WriteLeaf(t, dir, "site", "site.test", "127.0.0.1")
	if st, err := os.Stat(l.KeyFile); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(l.KeyFile) != dir {
		t.Fatalf("key file %s: %v %v", l.KeyFile, st.Mode(), err)
	}
	pair, err := tls.LoadX509KeyPair(l.CertFile, l.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) { c.(*tls.Conn).Handshake(); c.Close() }(c)
		}
	}()
	for _, name := range []string{"", "site.test"} {
		if got, err := TLSServing(ca, ln.Addr().String(), name); err != nil || got.Cmp(l.Serial) != 0 {
			t.Errorf("name %q: serial %v (%v), want %v", name, got, err, l.Serial)
		}
	}
	if _, err := TLSServing(ca, ln.Addr().String(), "other.test"); err == nil {
		t.Error("a name the leaf does not hold was accepted")
	}
	if _, err := TLSServing(NewCA(t), ln.Addr().String(), ""); err == nil {
		t.Error("another CA's client trusted the leaf")
	}
	if n := ca.Leaf(t).Serial; n.Cmp(l.Serial) <= 0 {
		t.Errorf("next serial %v, want above %v", n, l.Serial)
	}
}
