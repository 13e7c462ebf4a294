package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// server is a loopback HTTP server whose handler says which Host it got;
// /to?u=URL redirects to URL, /loop redirects to itself.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to":
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "host="+r.Host+" path="+r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *Client, url string, hdr ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestClientAllowsListedAndDropsHost(t *testing.T) {
	srv := server(t)
	c := New(Options{Policy: mustParse(t, srv.URL)})
	defer c.CloseIdle()
	body, err := get(t, c, srv.URL+"/x", "Host", "internal.admin")
	want := "host=" + strings.TrimPrefix(srv.URL, "http://") + " path=/x"
	if err != nil || body != want {
		t.Fatalf("got %q, %v; want %q (the guest's Host header dropped)", body, err, want)
	}
}

func TestClientRedirects(t *testing.T) {
	allowed, refused := server(t), server(t)
	c := New(Options{Policy: mustParse(t, allowed.URL)})
	defer c.CloseIdle()

	// A hop to an allowed target is followed.
	body, err := get(t, c, allowed.URL+"/to?u=/final")
	if err != nil || !strings.HasSuffix(body, "path=/final") {
		t.Errorf("allowed hop: %q, %v", body, err)
	}
	// A hop to a refused target is not: the error names it and where the
	// redirect came from.
	_, err = get(t, c, allowed.URL+"/to?u="+refused.URL+"/secret")
	var d *DeniedError
	if !errors.As(err, &d) || d.Status() != abi.StatusDenied || d.URL != refused.URL ||
		!strings.Contains(err.Error(), "is not in outbound.allow (redirected from "+allowed.URL+")") {
		t.Errorf("redirect escape: %v, want denied naming %s", err, refused.URL)
	}
	// A loop ends after MaxRedirects.
	_, err = get(t, c, allowed.URL+"/loop")
	var tm *TooManyRedirectsError
	if !errors.As(err, &tm) {
		t.Errorf("redirect loop: %v, want TooManyRedirectsError", err)
	}
}

// A name the list allows, resolving to a link-local address (the cloud
// metadata service), is refused at connect time; resolving elsewhere it
// connects to the address that was checked.
func TestClientChecksResolvedAddress(t *testing.T) {
	srv := server(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	resolved := map[string]string{"metadata.test": "169.254.169.254", "good.test": "127.0.0.1", "v6meta.test": "fe80::1"}
	c := New(Options{
		Policy: mustParse(t, "http://*.test:*"),
		Resolve: func(_ context.Context, host string) ([]netip.Addr, error) {
			a, ok := resolved[host]
			if !ok {
				return nil, errors.New("no such host")
			}
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		},
	})
	defer c.CloseIdle()
	for _, name := range []string{"metadata.test", "v6meta.test"} {
		_, err := get(t, c, "http://"+name+":"+port+"/")
		var d *DeniedError
		if !errors.As(err, &d) || !strings.Contains(err.Error(), "resolves to "+resolved[name]) ||
			!strings.Contains(err.Error(), "outbound.allow") {
			t.Errorf("%s: %v, want denied at the resolved address", name, err)
		}
	}
	body, err := get(t, c, "http://good.test:"+port+"/ok")
	if err != nil || body != "host=good.test:"+port+" path=/ok" {
		t.Errorf("good.test: %q, %v", body, err)
	}
}

// localhost is a name: with a wildcard-only grant it resolves through the
// system resolver to loopback, which is allowed, while the same grant never
// reaches a link-local address.
func TestClientLocalhostName(t *testing.T) {
	srv := server(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	c := New(Options{Policy: mustParse(t, "http://localhost:"+port)})
	defer c.CloseIdle()
	body, err := get(t, c, "http://localhost:"+port+"/l")
	if err != nil || !strings.HasSuffix(body, "path=/l") {
		t.Errorf("localhost: %q, %v", body, err)
	}
	if _, err := get(t, c, "http://127.0.0.1:"+port+"/l"); err == nil {
		t.Error("the IP behind an allowed name is allowed by it")
	}
}

// Calls past MaxConcurrent wait for a slot, bounded by their context.
func TestClientMaxConcurrent(t *testing.T) {
	srv := server(t)
	c := New(Options{Policy: mustParse(t, srv.URL), MaxConcurrent: 1})
	defer c.CloseIdle()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	first, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req2, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	if _, err := c.Do(req2); err == nil || !strings.Contains(err.Error(), "1 outbound slots") {
		t.Fatalf("second call with the only slot taken: %v", err)
	}
	first.Body.Close() // frees the slot
	if _, err := get(t, c, srv.URL); err != nil {
		t.Fatalf("after the slot was freed: %v", err)
	}
}

func TestClientNothingGranted(t *testing.T) {
	srv := server(t)
	c := New(Options{})
	_, err := get(t, c, srv.URL)
	if err == nil || err.Error() != srv.URL+" is not in outbound.allow" {
		t.Fatalf("got %v", err)
	}
}
