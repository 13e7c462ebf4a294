package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// streamEcho is an upstream that reads the whole request body (no
// Content-Length expected) and its trailer, reports them in headers, then
// streams respSize bytes back in flushed pieces with a trailer of its own.
func streamEcho(t *testing.T, respSize int) (*httptest.Server, []byte) {
	resp := make([]byte, respSize)
	rand.Read(resp)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		w.Header().Set("X-Got-Len", strconv.FormatInt(n, 10))
		w.Header().Set("X-Got-Content-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Header().Set("X-Got-Sum", hex.EncodeToString(h.Sum(nil)))
		w.Header().Set("X-Got-Trailer", r.Trailer.Get("X-Req-Trailer"))
		w.Header().Set("X-Got-Wasm", r.Header.Get("X-Wasm"))
		w.Header().Set("Trailer", "X-Resp-Trailer")
		for b := resp; len(b) > 0; {
			k := min(len(b), 64<<10)
			w.Write(b[:k])
			w.(http.Flusher).Flush()
			b = b[k:]
		}
		w.Header().Set("X-Resp-Trailer", "rs")
	}))
	t.Cleanup(up.Close)
	return up, resp
}

// A request without Content-Length, with a trailer, and large streamed
// bodies both ways passes through a plugin's next to the upstream over
// HTTP/2 exactly as over HTTP/1.1.
func TestHTTP2StreamsThroughPlugin(t *testing.T) {
	up, want := streamEcho(t, 2<<20)
	ts := startTLS(t, wat(t, "next"), "--workers", "1", "--control", "-", "--upstream", up.URL)
	for _, h2 := range []bool{false, true} {
		body := make([]byte, 3<<20)
		rand.Read(body)
		pr, pw := io.Pipe()
		req, err := http.NewRequest("POST", ts.url()+"/stream", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Trailer = http.Header{"X-Req-Trailer": nil}
		go func() {
			for b := body; len(b) > 0; b = b[min(len(b), 100<<10):] {
				pw.Write(b[:min(len(b), 100<<10)])
			}
			req.Trailer.Set("X-Req-Trailer", "rq")
			pw.Close()
		}()
		resp, err := tlsClient(ts.ca, h2).Do(req)
		if err != nil {
			t.Fatalf("h2=%t: %v", h2, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(body)
		hd := resp.Header
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Trailer.Get("X-Resp-Trailer") != "rs" ||
			hd.Get("X-Got-Len") != strconv.Itoa(len(body)) || hd.Get("X-Got-Sum") != hex.EncodeToString(sum[:]) ||
			hd.Get("X-Got-Trailer") != "rq" || hd.Get("X-Got-Wasm") != "seen" || hd.Get("X-Got-Content-Length") != "-1" {
			t.Errorf("%s (h2=%t): %s, read %d of %d bytes (err %v), trailer %q; upstream saw %v",
				resp.Proto, h2, resp.Status, len(got), len(want), err, resp.Trailer, hd)
		}
		if wantMajor := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != wantMajor {
			t.Errorf("h2=%t: served over %s", h2, resp.Proto)
		}
	}
}

// --upstream https:// verifies the upstream's certificate: with
// upstream_ca naming its CA the request goes through; without it the
// answer is 502 and the log says what to set.
func TestUpstreamHTTPSVerified(t *testing.T) {
	ca := testkit.NewCA(t)
	leaf := ca.Leaf(t)
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream over TLS, x-wasm="+r.Header.Get("X-Wasm"))
	}))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	up.StartTLS()
	t.Cleanup(up.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{wat(t, "next"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--upstream", up.URL}
	s := startServe(t, nil, append(args, "--upstream-ca", caFile)...)
	if resp, body := get(t, client, s.URL()+"/"); resp.StatusCode != 200 || body != "upstream over TLS, x-wasm=seen" {
		t.Errorf("with upstream_ca: %s %q", resp.Status, body)
	}
	s = startServe(t, nil, args...)
	if resp, _ := get(t, client, s.URL()+"/"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("without upstream_ca: %s, want 502", resp.Status)
	}
	s.WaitLog("set upstream_ca to that CA")
	s.WaitLog("certificate signed by unknown authority")
}

// The http-wasm conformance kit end to end through the binary over TLS
// and HTTP/2 (TestTCK runs it over plain HTTP/1.1).
func TestTCKOverHTTP2TLS(t *testing.T) {
	backend := tck.StartBackend("127.0.0.1:0")
	t.Cleanup(backend.Close)
	plugin := testkit.TempFile(t, "tck.wasm", tck.GuestWASM)
	ts := startTLS(t, plugin, "--workers", "1", "--control", "-", "--upstream", backend.URL)
	c := tlsClient(ts.ca, true)
	if resp, _ := get(t, c, ts.url()+"/"); resp.ProtoMajor != 2 {
		t.Fatalf("the kit's client speaks %s, want HTTP/2", resp.Proto)
	}
	tck.Run(t, c, ts.url())
}
