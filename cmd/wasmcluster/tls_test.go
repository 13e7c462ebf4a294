package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// tlsSite is a TLS server under test: the binary serving a pair signed by
// a CA of the test, in dir.
type tlsSite struct {
	s    *testkit.Server
	ca   *testkit.CA
	dir  string
	leaf testkit.Leaf
}

func (ts *tlsSite) url() string { return "https://" + ts.s.Addr }

// startTLS serves guest over TLS with a fresh pair (site.pem, site.key).
func startTLS(t *testing.T, guest string, args ...string) *tlsSite {
	t.Helper()
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	leaf := ca.WriteLeaf(t, dir, "site")
	args = append([]string{guest, "--listen", "127.0.0.1:0", "--tls-cert", leaf.CertFile, "--tls-key", leaf.KeyFile}, args...)
	return &tlsSite{s: startServe(t, nil, args...), ca: ca, dir: dir, leaf: leaf}
}

// tlsClient is a client trusting ca that speaks HTTP/2 (h2) or HTTP/1.1.
func tlsClient(ca *testkit.CA, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: ca.ClientConfig(), ForceAttemptHTTP2: h2}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// curl runs curl with args and returns its stdout ("-w" output).
func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(testkit.Require(t, "curl"), append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TLS is terminated where requests are served, worker processes and
// --workers 0 alike: curl and Go clients get HTTP/2 by ALPN and HTTP/1.1
// when they ask for it; TLS 1.1 is refused.
func TestTLSHTTP2AndHTTP1(t *testing.T) {
	for _, workers := range []string{"1", "0"} {
		t.Run("workers="+workers, func(t *testing.T) {
			ts := startTLS(t, wat(t, "hello"), "--workers", workers, "--control", "-")
			caFile := testkit.TempFile(t, "ca.pem", ts.ca.PEM)
			for flag, want := range map[string]string{"--http2": "2 200 hello from wat\n", "--http1.1": "1.1 200 hello from wat\n"} {
				got := curl(t, flag, "--cacert", caFile, "-w", "%{http_version} %{http_code} ", "-o", "/dev/null", ts.url()+"/")
				body := curl(t, flag, "--cacert", caFile, ts.url()+"/")
				if got+body != want {
					t.Errorf("curl %s: %q, want %q", flag, got+body, want)
				}
			}
			for h2, want := range map[bool]int{true: 2, false: 1} {
				resp, body := get(t, tlsClient(ts.ca, h2), ts.url()+"/")
				if resp.StatusCode != 200 || resp.ProtoMajor != want || body != "hello from wat\n" {
					t.Errorf("Go client (h2=%t): %s %s %q, want HTTP/%d 200", h2, resp.Proto, resp.Status, body, want)
				}
			}
			old := ts.ca.ClientConfig()
			old.MaxVersion = tls.VersionTLS11
			if c, err := tls.Dial("tcp", ts.s.Addr, old); err == nil {
				c.Close()
				t.Errorf("a TLS 1.1 handshake succeeded; want TLS 1.2 at least")
			}
		})
	}
}

// serialsSeen records the certificate serial of every answer of a load;
// the test reads it while the load runs.
type serialsSeen struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *serialsSeen) check(resp *http.Response, _ []byte, _ time.Time) string {
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return "no TLS"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[resp.TLS.PeerCertificates[0].SerialNumber.String()]++
	return ""
}

func (s *serialsSeen) count(serial *big.Int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[serial.String()]
}

func (s *serialsSeen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.n)
}

// waitServing waits (bounded) until a new connection gets serial.
func waitServing(t *testing.T, ca *testkit.CA, addr, name string, serial *big.Int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := testkit.TLSServing(ca, addr, name)
		if err == nil && got.Cmp(serial) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections (SNI %q) get serial %v (err %v), want %v", name, got, err, serial)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The pair is replaced under load (HTTP/1.1 with and without keep-alive,
// HTTP/2) with two workers: no request fails and new connections get the
// new certificate. A broken pair is then refused, in the log and in
// status, and the serving one stays; a good one after it is taken.
func TestTLSReplaceUnderLoad(t *testing.T) {
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	ts := startTLS(t, wat(t, "hello"), "--workers", "2", "--control", sock)
	h1, h2 := &serialsSeen{}, &serialsSeen{}
	load1 := testkit.StartLoad(ts.url(), testkit.LoadOptions{Clients: 2, TLS: ts.ca.ClientConfig(),
		NoKeepAlive: func(i int) bool { return i == 0 }, Check: h1.check, Pause: 5 * time.Millisecond})
	load2 := testkit.StartLoad(ts.url(), testkit.LoadOptions{Clients: 1, TLS: ts.ca.ClientConfig(), HTTP2: true,
		Check: h2.check, Pause: 5 * time.Millisecond})
	// Both loads answered on the old pair before it is replaced, and the
	// HTTP/1.1 one (a new connection per request on client 0) on the new
	// one after: waited for, not assumed of a fixed time.
	testkit.WaitFor(t, 30*time.Second, "answers on the first certificate", func() bool {
		return h1.count(ts.leaf.Serial) > 0 && h2.count(ts.leaf.Serial) > 0
	})
	next := ts.ca.WriteLeaf(t, ts.dir, "site")
	waitServing(t, ts.ca, ts.s.Addr, "", next.Serial)
	testkit.WaitFor(t, 30*time.Second, "HTTP/1.1 answers on the new certificate", func() bool { return h1.count(next.Serial) > 0 })
	r1, r2 := load1.Stop(), load2.Stop()
	if r1.Failed() != 0 || r2.Failed() != 0 || r1.OK == 0 || r2.OK == 0 {
		t.Errorf("under load while the pair was replaced: HTTP/1.1 %v, HTTP/2 %v; want no failure", r1, r2)
	}
	if h1.count(next.Serial) == 0 || h1.count(ts.leaf.Serial) == 0 {
		t.Errorf("HTTP/1.1 answers by certificate serial %v: want both %v and %v", h1, ts.leaf.Serial, next.Serial)
	}

	// A certificate with another pair's key: refused, the serving one stays.
	broken := ts.ca.Leaf(t)
	testkit.WriteAtomic(t, filepath.Join(ts.dir, "site.pem"), broken.CertPEM)
	ts.s.WaitLog("new TLS certificate refused")
	if got, err := testkit.TLSServing(ts.ca, ts.s.Addr, ""); err != nil || got.Cmp(next.Serial) != 0 {
		t.Errorf("after a broken pair: serving %v (%v), want the previous %v", got, err, next.Serial)
	}
	r := runBin(t, nil, "status", "--json", "--control", sock)
	var st control.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.TLS == nil || st.TLS.LastRefused == nil ||
		!strings.Contains(st.TLS.LastRefused.Error, "private key does not match public key") ||
		len(st.TLS.Certificates) != 1 || st.TLS.Certificates[0].Serial != fmt.Sprintf("%x", next.Serial) {
		t.Errorf("status after a refused pair: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if r := runBin(t, nil, "status", "--control", sock); !strings.Contains(r.stdout, "tls: new certificate refused at") ||
		!strings.Contains(r.stdout, fmt.Sprintf("serial %x, expires", next.Serial)) {
		t.Errorf("status text after a refused pair:\n%s%s", r.stdout, r.stderr)
	}
	fixed := ts.ca.WriteLeaf(t, ts.dir, "site")
	waitServing(t, ts.ca, ts.s.Addr, "", fixed.Serial)
}

// Several pairs: the client's SNI name picks one, the first is the default.
func TestTLSSNI(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	a := ca.WriteLeaf(t, dir, "a", "a.test")
	b := ca.WriteLeaf(t, dir, "b", "b.test", "*.b.test")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--tls-cert", a.CertFile+","+b.CertFile, "--tls-key", a.KeyFile+","+b.KeyFile)
	for name, want := range map[string]*big.Int{"a.test": a.Serial, "b.test": b.Serial, "x.b.test": b.Serial} {
		if got, err := testkit.TLSServing(ca, s.Addr, name); err != nil || got.Cmp(want) != 0 {
			t.Errorf("SNI %s: serial %v (%v), want %v", name, got, err, want)
		}
	}
	// No matching name: the default pair, whose name the client rejects.
	if _, err := testkit.TLSServing(ca, s.Addr, "other.test"); err == nil || !strings.Contains(err.Error(), "a.test") {
		t.Errorf("SNI other.test: %v, want the default certificate (a.test), not valid for it", err)
	}
}

// Bad files at start stop it with exit 1 naming the key and the path; a
// half-configured pair is a usage error (exit 2).
func TestTLSBadFilesAtStart(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	a, b := ca.WriteLeaf(t, dir, "a"), ca.WriteLeaf(t, dir, "b")
	missing := filepath.Join(dir, "missing.key")
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--tls-cert", a.CertFile, "--tls-key", missing}, 1, []string{"tls.key", missing, "no such file"}},
		{[]string{"--tls-cert", a.CertFile, "--tls-key", b.KeyFile}, 1, []string{"tls.cert", a.CertFile, b.KeyFile, "private key does not match"}},
		{[]string{"--tls-cert", a.KeyFile, "--tls-key", a.KeyFile}, 1, []string{"tls.cert", a.KeyFile}},
		{[]string{"--tls-cert", a.CertFile}, 2, []string{"tls.key", "name its private key file"}},
		{[]string{"--tls-cert", a.CertFile, "--tls-key", a.KeyFile, "--h2c"}, 2, []string{"h2c"}},
		{[]string{"--upstream-ca", a.CertFile, "--upstream", "http://127.0.0.1:1"}, 2, []string{"upstream_ca", "only an https upstream"}},
		{[]string{"--upstream-ca", a.KeyFile, "--upstream", "https://127.0.0.1:1"}, 1, []string{"upstream_ca", "no PEM certificate"}},
	} {
		r := runBin(t, nil, append([]string{"serve", wat(t, "hello"), "--listen", "127.0.0.1:0", "--control", "-"}, c.args...)...)
		for _, w := range c.want {
			if r.code != c.code || !strings.Contains(r.stderr, w) {
				t.Errorf("%v: exit %d, want %d with %q in stderr:\n%s", c.args, r.code, c.code, w, r.stderr)
				break
			}
		}
	}
}

// h2c = true serves HTTP/2 without TLS to a client with prior knowledge,
// and HTTP/1.1 still.
func TestH2C(t *testing.T) {
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--h2c")
	if got := curl(t, "--http2-prior-knowledge", "-w", "%{http_version} %{http_code}", "-o", "/dev/null", s.URL()+"/"); got != "2 200" {
		t.Errorf("curl --http2-prior-knowledge: %q, want HTTP/2 200", got)
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 30 * time.Second}
	if resp, body := get(t, h2c, s.URL()+"/"); resp.ProtoMajor != 2 || body != "hello from wat\n" {
		t.Errorf("Go h2c client: %s %q, want HTTP/2.0", resp.Proto, body)
	}
	if resp, _ := get(t, client, s.URL()+"/"); resp.ProtoMajor != 1 {
		t.Errorf("HTTP/1.1 client: %s", resp.Proto)
	}
}

// SIGHUP (both modes) and `wasmcluster reload` read the files again: a
// broken pair the watcher refused once is reported again on each, and the
// serving pair stays.
func TestTLSReloadRereadsFiles(t *testing.T) {
	for _, workers := range []string{"1", "0"} {
		t.Run("workers="+workers, func(t *testing.T) {
			sock := filepath.Join(testkit.SocketDir(t), "c.sock")
			ts := startTLS(t, wat(t, "hello"), "--workers", workers, "--control", sock)
			testkit.WriteAtomic(t, filepath.Join(ts.dir, "site.pem"), ts.ca.Leaf(t).CertPEM)
			refusals := func() int { return strings.Count(ts.s.Log.String(), "new TLS certificate refused") }
			testkit.WaitFor(t, 15*time.Second, "the watcher's refusal", func() bool { return refusals() == 1 })
			ts.s.Signal(syscall.SIGHUP)
			testkit.WaitFor(t, 15*time.Second, "the refusal again after SIGHUP", func() bool { return refusals() == 2 })
			if workers != "0" {
				if r := runBin(t, nil, "reload", "--control", sock); r.code != 0 {
					t.Errorf("reload: exit %d\n%s", r.code, r.stderr)
				}
				testkit.WaitFor(t, 15*time.Second, "the refusal again after reload", func() bool { return refusals() == 3 })
			}
			if got, err := testkit.TLSServing(ts.ca, ts.s.Addr, ""); err != nil || got.Cmp(ts.leaf.Serial) != 0 {
				t.Errorf("serving %v (%v), want the first pair %v", got, err, ts.leaf.Serial)
			}
		})
	}
}
