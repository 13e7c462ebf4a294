package tlscert

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestReadNamesTheFile(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	a, b := ca.WriteLeaf(t, dir, "a"), ca.WriteLeaf(t, dir, "b")
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, c := range []struct {
		pair  Pair
		which string
		want  string
	}{
		{Pair{filepath.Join(dir, "none.pem"), a.KeyFile}, "cert", "no such file"},
		{Pair{a.CertFile, filepath.Join(dir, "none.key")}, "key", "no such file"},
		{Pair{empty, a.KeyFile}, "cert", "empty"},
		{Pair{a.CertFile, b.KeyFile}, "", "private key does not match public key"},
		{Pair{a.KeyFile, a.KeyFile}, "", "certificate"},
	} {
		_, err := Read([]Pair{c.pair})
		var fe *FileError
		var pe *PairError
		switch {
		case err == nil || !strings.Contains(err.Error(), c.want):
			t.Errorf("%v: %v, want %q", c.pair, err, c.want)
		case c.which != "" && (!errors.As(err, &fe) || fe.Which != c.which || !errors.Is(err, fs.ErrNotExist) && c.want == "no such file"):
			t.Errorf("%v: %#v, want a FileError for the %s", c.pair, err, c.which)
		case c.which == "" && (!errors.As(err, &pe) || pe.Pair != c.pair):
			t.Errorf("%v: %#v, want a PairError", c.pair, err)
		}
	}
	if pems, err := Read([]Pair{{a.CertFile, a.KeyFile}, {b.CertFile, b.KeyFile}}); err != nil || len(pems) != 2 {
		t.Errorf("two good pairs: %d, %v", len(pems), err)
	}
}

func serialOf(t *testing.T, s *Store, name string) *big.Int {
	t.Helper()
	c, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: name, SupportedVersions: []uint16{tls.VersionTLS13},
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, SupportedCurves: []tls.CurveID{tls.CurveP256}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber
}

func TestStoreSNIAndSet(t *testing.T) {
	ca := testkit.NewCA(t)
	a, b := ca.Leaf(t, "a.test"), ca.Leaf(t, "b.test")
	s, err := NewStore([]PEM{{a.CertPEM, a.KeyPEM}, {b.CertPEM, b.KeyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*big.Int{"a.test": a.Serial, "b.test": b.Serial, "c.test": a.Serial, "": a.Serial} {
		if got := serialOf(t, s, name); got.Cmp(want) != 0 {
			t.Errorf("SNI %q: serial %v, want %v", name, got, want)
		}
	}
	if err := s.Set([]PEM{{a.CertPEM, b.KeyPEM}}); err == nil {
		t.Error("Set took a certificate with another's key")
	}
	if got := serialOf(t, s, "b.test"); got.Cmp(b.Serial) != 0 {
		t.Errorf("after a refused Set: serial %v, want the old %v", got, b.Serial)
	}
	cfg := s.ServerConfig()
	if cfg.MinVersion != tls.VersionTLS12 || strings.Join(cfg.NextProtos, ",") != "h2,http/1.1" {
		t.Errorf("server config: min %x, ALPN %v", cfg.MinVersion, cfg.NextProtos)
	}
}

// watched runs a watcher of pair and returns what it reports.
func watched(t *testing.T, pair Pair) (changes chan *big.Int, refusals chan error, w *Watcher) {
	t.Helper()
	cur, err := Read([]Pair{pair})
	if err != nil {
		t.Fatal(err)
	}
	changes, refusals = make(chan *big.Int, 8), make(chan error, 8)
	w = NewWatcher([]Pair{pair}, cur, WatchOptions{
		OnChange: func(p []PEM) {
			c, _ := Parse(p[0])
			changes <- c.Leaf.SerialNumber
		},
		OnRefuse: func(err error) { refusals <- err },
		Debounce: 30 * time.Millisecond,
		Poll:     -1, // events only: each replacement below must be seen by fsnotify
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(50 * time.Millisecond) // Run has added its watches
	return changes, refusals, w
}

func expectSerial(t *testing.T, ch <-chan *big.Int, want *big.Int) {
	t.Helper()
	select {
	case got := <-ch:
		if got.Cmp(want) != 0 {
			t.Errorf("new set with serial %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no new set with serial %v", want)
	}
}

// Each way certificates get replaced is seen: written in place, renamed
// over (most tools), certbot's live/ symlinks moved to new archive/ files,
// and Kubernetes' ..data symlink flipped to a new directory.
func TestWatcherReplacements(t *testing.T) {
	ca := testkit.NewCA(t)
	t.Run("in place and renamed", func(t *testing.T) {
		dir := t.TempDir()
		l := ca.WriteLeaf(t, dir, "site")
		changes, _, _ := watched(t, Pair{l.CertFile, l.KeyFile})
		n := ca.Leaf(t)
		os.WriteFile(l.KeyFile, n.KeyPEM, 0o600)
		os.WriteFile(l.CertFile, n.CertPEM, 0o600)
		expectSerial(t, changes, n.Serial)
		expectSerial(t, changes, ca.WriteLeaf(t, dir, "site").Serial)
	})
	t.Run("certbot", func(t *testing.T) {
		root := t.TempDir()
		live, archive := filepath.Join(root, "live"), filepath.Join(root, "archive")
		os.Mkdir(live, 0o700)
		os.Mkdir(archive, 0o700)
		link := func(n int) testkit.Leaf {
			l := ca.WriteLeaf(t, archive, "v"+string(rune('0'+n)))
			for name, target := range map[string]string{"cert.pem": l.CertFile, "privkey.pem": l.KeyFile} {
				tmp := filepath.Join(live, name+".new")
				os.Symlink(target, tmp)
				os.Rename(tmp, filepath.Join(live, name))
			}
			return l
		}
		link(1)
		changes, _, _ := watched(t, Pair{filepath.Join(live, "cert.pem"), filepath.Join(live, "privkey.pem")})
		expectSerial(t, changes, link(2).Serial)
	})
	t.Run("kubernetes", func(t *testing.T) {
		dir := t.TempDir()
		flip := func(n int) testkit.Leaf {
			ts := filepath.Join(dir, "..2026_"+string(rune('0'+n)))
			os.Mkdir(ts, 0o700)
			l := ca.WriteLeaf(t, ts, "tls")
			os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data_tmp"))
			os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data"))
			return l
		}
		flip(1)
		os.Symlink("..data/tls.pem", filepath.Join(dir, "tls.crt"))
		os.Symlink("..data/tls.key", filepath.Join(dir, "tls.key"))
		changes, _, _ := watched(t, Pair{filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")})
		expectSerial(t, changes, flip(2).Serial)
	})
}

// A broken replacement is refused once (not on every event), a Check
// reports it again, and the next good content is taken.
func TestWatcherRefusesBrokenPair(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	l := ca.WriteLeaf(t, dir, "site")
	changes, refusals, w := watched(t, Pair{l.CertFile, l.KeyFile})
	testkit.WriteAtomic(t, l.CertFile, ca.Leaf(t).CertPEM)
	select {
	case err := <-refusals:
		if !strings.Contains(err.Error(), "private key does not match") {
			t.Errorf("refusal: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a broken pair was not refused")
	}
	os.Chtimes(l.KeyFile, time.Now(), time.Now()) // an event, same content
	if changed, err := w.Check(); changed || err == nil {
		t.Errorf("Check of the broken pair: changed=%t err=%v", changed, err)
	}
	if n := len(refusals); n != 1 {
		t.Errorf("%d refusals after an event on the same content and a Check, want the Check's 1", n)
	}
	expectSerial(t, changes, ca.WriteLeaf(t, dir, "site").Serial)
	if changed, err := w.Check(); changed || err != nil {
		t.Errorf("Check of the serving content: changed=%t err=%v", changed, err)
	}
}
