package host_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// listen serves h on a real socket at addr; ok is false when the address
// family is not available on this machine.
func listen(t *testing.T, addr string, h http.Handler) (srv *httptest.Server, ok bool) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false
	}
	srv = httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, true
}

// TestSourceAddr: get_source_addr is the client's address as the server saw
// it, for an IPv4 and an IPv6 client on loopback.
func TestSourceAddr(t *testing.T) {
	p := newPlugin(t, wat(t, "addr"), host.Config{})
	for _, tc := range []struct{ name, listen, ip string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ok := listen(t, tc.listen, p)
			if !ok {
				if tc.name == "ipv6" {
					t.Skip("IPv6 loopback not available on this machine")
				}
				t.Fatalf("cannot listen on %s", tc.listen)
			}
			var local atomic.Value
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err == nil {
					local.Store(c.LocalAddr().String())
				}
				return c, err
			}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			resp, err := client.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %q", resp.StatusCode, body)
			}
			if want, _ := local.Load().(string); string(body) != want {
				t.Errorf("get_source_addr = %q, want the client's %q", body, want)
			}
			if ip, _, err := net.SplitHostPort(string(body)); err != nil || ip != tc.ip {
				t.Errorf("get_source_addr = %q, want host %s and a port (%v)", body, tc.ip, err)
			}
		})
	}
}

// chunkedWithTrailer sends body chunked (unknown length) with one request
// trailer.
func chunkedWithTrailer(t *testing.T, url, mode string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader("request body")))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Req-Trailer": {"rq"}}
	req.Header.Set("X-Mode", mode)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestTrailers (feature 4): request trailers readable by the guest and passed
// to next, response trailers set by the guest or next reach the client, and
// request trailers are never echoed into the response.
func TestTrailers(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Next-Saw-Trailer", r.Trailer.Get("X-Req-Trailer"))
		w.Header().Set("Trailer", "X-Next-Trailer")
		io.WriteString(w, "next-body")
		w.Header().Set("X-Next-Trailer", "nt")
	})
	p := newPlugin(t, wat(t, "trailers"), host.Config{Next: next})
	srv, _ := listen(t, "127.0.0.1:0", p)

	noEcho := func(t *testing.T, resp *http.Response) {
		if resp.Header.Get("X-Req-Trailer") != "" || resp.Trailer.Get("X-Req-Trailer") != "" {
			t.Errorf("request trailer echoed into the response: header %v trailer %v", resp.Header, resp.Trailer)
		}
	}

	t.Run("guest", func(t *testing.T) {
		resp := chunkedWithTrailer(t, srv.URL, "g")
		body, _ := io.ReadAll(resp.Body) // trailers arrive after the body
		if resp.StatusCode != http.StatusOK || string(body) != "body" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Got-Req-Trailer"); got != "rq" {
			t.Errorf("guest read request trailer %q, want rq", got)
		}
		if got := resp.Trailer.Get("X-Resp-Trailer"); got != "rt" {
			t.Errorf("response trailer %q, want rt (trailers %v, header %v)", got, resp.Trailer, resp.Header)
		}
		noEcho(t, resp)
	})
	t.Run("next", func(t *testing.T) {
		resp := chunkedWithTrailer(t, srv.URL, "n")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "next-body" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Next-Saw-Trailer"); got != "rq" {
			t.Errorf("next saw request trailer %q, want rq", got)
		}
		if got := resp.Header.Get("X-Saw-Next-Trailer"); got != "nt" {
			t.Errorf("guest saw next's trailer %q, want nt", got)
		}
		if got := resp.Trailer.Get("X-Next-Trailer"); got != "nt" {
			t.Errorf("next's trailer %q, want nt (trailers %v)", got, resp.Trailer)
		}
		if got := resp.Trailer.Get("X-Guest-Trailer"); got != "gt" {
			t.Errorf("guest's trailer %q, want gt (trailers %v)", got, resp.Trailer)
		}
		noEcho(t, resp)
	})
	if s := p.Stats(); s.Traps != 0 {
		t.Errorf("guest trapped: %+v", s)
	}
}
