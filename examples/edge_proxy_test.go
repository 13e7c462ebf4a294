package examples_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// serveWith runs an example through the binary with one worker and extra
// flags, its access log in its JSON log.
func serveWith(t *testing.T, name string, extra ...string) *testkit.Server {
	t.Helper()
	args := append([]string{"serve", example(t, name), "--log-format", "json", "--log-access", "json",
		"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "1", "--control", "-",
		"--admin", "off", "--plugin-pool-size", "1"}, extra...)
	cmd := exec.Command(testkit.Wasmcluster(t), args...)
	cmd.Env = testkit.Env(t)
	return testkit.Start(t, cmd)
}

// rawGet sends prefix (a PROXY header, or nothing), then a GET with
// headers hdr ("Name: value" lines), on a new connection to addr, and
// returns the answer's status and body.
func rawGet(t *testing.T, addr string, prefix []byte, hdr ...string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET /who HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n"
	for _, h := range hdr {
		req += h + "\r\n"
	}
	if _, err := c.Write(append(append([]byte{}, prefix...), req+"\r\n"...)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// remoteOf sends rawGet's request to the echo example and returns the
// client address it saw (get_source_addr).
func remoteOf(t *testing.T, addr string, prefix []byte, hdr ...string) string {
	t.Helper()
	code, body := rawGet(t, addr, prefix, hdr...)
	var e struct {
		RemoteAddr string `json:"remote_addr"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("echo answered %d %q", code, body)
	}
	return e.RemoteAddr
}

// proxyV2 is a PROXY protocol v2 header for TCP over IPv4 from src:port,
// with a TLV the server must skip.
func proxyV2(src [4]byte, port uint16) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11")
	body := append(src[:], 127, 0, 0, 1)
	body = binary.BigEndian.AppendUint16(body, port)
	body = binary.BigEndian.AppendUint16(body, 8080)
	body = append(body, 0x04, 0, 2, 'h', 'i') // PP2_TYPE_NOOP
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// Behind a trusted proxy the plugin's get_source_addr and the access log
// carry the client the proxy names (X-Forwarded-For, Forwarded, or a
// PROXY protocol header); the rightmost untrusted address wins.
func TestTrustedProxyClientAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	s := serveWith(t, "echo", "--listen", "127.0.0.1:0", "--trusted-proxies", "127.0.0.1,10.0.0.0/8", "--proxy-protocol")
	for _, tt := range []struct {
		name   string
		prefix []byte
		hdr    []string
		want   string
	}{
		{"no header: the peer", nil, nil, "127.0.0.1:"},
		{"X-Forwarded-For", nil, []string{"X-Forwarded-For: 198.51.100.7"}, "198.51.100.7:0"},
		{"spoofed left part", nil, []string{"X-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.1.2.3"}, "198.51.100.7:0"},
		{"Forwarded, quoted IPv6 with port", nil, []string{`Forwarded: for=6.6.6.6, for="[2001:db8::17]:4711";proto=https`}, "[2001:db8::17]:4711"},
		{"PROXY v1", []byte("PROXY TCP4 203.0.113.5 127.0.0.1 40000 8080\r\n"), nil, "203.0.113.5:40000"},
		{"PROXY v1 TCP6", []byte("PROXY TCP6 2001:db8::9 ::1 40001 8080\r\n"), nil, "[2001:db8::9]:40001"},
		{"PROXY v2", proxyV2([4]byte{203, 0, 113, 6}, 40002), nil, "203.0.113.6:40002"},
		{"PROXY v1 from a trusted hop, then its XFF", []byte("PROXY TCP4 10.9.9.9 127.0.0.1 1 8080\r\n"),
			[]string{"X-Forwarded-For: 198.51.100.8"}, "198.51.100.8:0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := remoteOf(t, s.Addr, tt.prefix, tt.hdr...)
			if !strings.HasPrefix(got, tt.want) || (strings.HasSuffix(tt.want, ":") == (got == tt.want)) {
				t.Fatalf("get_source_addr %q, want %q", got, tt.want)
			}
		})
	}
	s.WaitLog(`"remote":"198.51.100.7"`)
	s.WaitLog(`"remote":"203.0.113.6"`)
}

// From a peer nobody trusts, X-Forwarded-For and Forwarded are ignored and
// a PROXY header is not parsed (the request is malformed: 400). Over IPv6.
func TestUntrustedPeerIPv6(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	s := serveWith(t, "echo", "--listen", "[::1]:0", "--trusted-proxies", "10.0.0.0/8", "--proxy-protocol")
	got := remoteOf(t, s.Addr, nil, "X-Forwarded-For: 198.51.100.7", "Forwarded: for=198.51.100.7")
	if !strings.HasPrefix(got, "[::1]:") {
		t.Errorf("spoofed headers from an untrusted peer: get_source_addr %q, want [::1]:port", got)
	}
	if code, _ := rawGet(t, s.Addr, []byte("PROXY TCP4 203.0.113.5 127.0.0.1 40000 8080\r\n")); code != 400 {
		t.Errorf("PROXY header from an untrusted peer: %d, want 400", code)
	}

	trusted := serveWith(t, "echo", "--listen", "[::1]:0", "--trusted-proxies", "::1")
	if got := remoteOf(t, trusted.Addr, nil, "X-Forwarded-For: 2001:db8::5"); got != "[2001:db8::5]:0" {
		t.Errorf("X-Forwarded-For from a trusted IPv6 peer: get_source_addr %q, want [2001:db8::5]:0", got)
	}
}

// The upstream behind a middleware gets the client in X-Forwarded-For and
// Forwarded, and the scheme in X-Forwarded-Proto: from a trusted proxy,
// the vouched hops with the peer appended; from anyone else, the peer
// alone, whatever the client claimed.
func TestForwardedHeadersUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "xff=%s|proto=%s|fwd=%s", r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"),
			strings.Join(r.Header.Values("Forwarded"), ";;"))
	}))
	t.Cleanup(up.Close)
	auth := "Authorization: Bearer " + authToken
	spoof := []string{auth, "X-Forwarded-For: 6.6.6.6, 198.51.100.7", "X-Forwarded-Proto: https", "Forwarded: for=6.6.6.6"}

	trusted := serveWith(t, "auth-middleware", "--listen", "127.0.0.1:0", "--upstream", up.URL,
		"--plugin-config", authToken, "--trusted-proxies", "127.0.0.1")
	_, got := rawGet(t, trusted.Addr, nil, auth, "X-Forwarded-For: 6.6.6.6, 198.51.100.7", "X-Forwarded-Proto: https")
	want := `xff=198.51.100.7, 127.0.0.1|proto=https|fwd=for=198.51.100.7;host="edge.test";proto=https, for=127.0.0.1`
	if got != want {
		t.Errorf("through a trusted proxy the upstream got\n%s\nwant\n%s", got, want)
	}

	plain := serveWith(t, "auth-middleware", "--listen", "127.0.0.1:0", "--upstream", up.URL, "--plugin-config", authToken)
	_, got = rawGet(t, plain.Addr, nil, spoof...)
	want = `xff=127.0.0.1|proto=http|fwd=for=127.0.0.1;host="edge.test";proto=http`
	if got != want {
		t.Errorf("with no trusted proxy the upstream got\n%s\nwant\n%s", got, want)
	}
}
