package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MaxRedirects is how many redirects a call follows, each checked.
const MaxRedirects = 5

// DefaultMaxConcurrent is Options.MaxConcurrent's default.
const DefaultMaxConcurrent = 256

// Options configure a Client.
type Options struct {
	// Policy is what may be called. Nil refuses everything.
	Policy *Policy

	// MaxConcurrent caps calls in flight (from send until the response
	// body is closed); a call past it waits for a slot until its context
	// ends. Defaults to DefaultMaxConcurrent.
	MaxConcurrent int

	// Resolve looks up a host name's addresses. Defaults to
	// net.DefaultResolver.LookupNetIP.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)

	// TLS is the TLS client configuration (e.g. extra roots). Defaults to
	// the system's.
	TLS *tls.Config
}

// Client makes the calls of every plugin instance in a process: one
// pooled transport, the policy checked on the URL, every redirect hop and
// every connection's address.
type Client struct {
	policy  *Policy
	hc      *http.Client
	tr      *http.Transport
	sem     chan struct{}
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	dialer  net.Dialer
}

// New returns a Client; close it with CloseIdle when the process ends.
func New(o Options) *Client {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	c := &Client{policy: o.Policy, sem: make(chan struct{}, o.MaxConcurrent), resolve: o.Resolve}
	if c.resolve == nil {
		c.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	c.dialer = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: c.control}
	c.tr = &http.Transport{
		Proxy:                 nil, // a proxy would connect to addresses the policy never saw
		DialContext:           c.dial,
		TLSClientConfig:       o.TLS,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.MaxConcurrent,
		MaxIdleConnsPerHost:   o.MaxConcurrent,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c.hc = &http.Client{Transport: c.tr, CheckRedirect: c.checkRedirect}
	return c
}

// CloseIdle closes the pooled connections not in use.
func (c *Client) CloseIdle() { c.tr.CloseIdleConnections() }

// Check reports whether the policy allows a call to the URL (before any
// I/O): nil, a *DeniedError or a *BadURLError.
func (c *Client) Check(req *http.Request) error { return c.policy.CheckURL(req.URL) }

// Do makes the call. A Host header or req.Host the caller set is dropped:
// the URL names the virtual host. The error is a *DeniedError when the
// target, a redirect hop or a connection address is refused. The response
// body must be closed, which frees the call's slot of MaxConcurrent.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := c.policy.CheckURL(req.URL); err != nil {
		return nil, err
	}
	req.Host = ""
	req.Header.Del("Host")
	select {
	case c.sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, fmt.Errorf("waiting for one of %d outbound slots: %w", cap(c.sem), context.Cause(req.Context()))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		<-c.sem
		return nil, plainErr(err)
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, release: func() { <-c.sem }}
	return resp, nil
}

// plainErr unwraps the *url.Error of http.Client around a policy error,
// whose own message already names the target.
func plainErr(err error) error {
	var d *DeniedError
	if errors.As(err, &d) {
		return d
	}
	var tm *TooManyRedirectsError
	if errors.As(err, &tm) {
		return tm
	}
	return err
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return &TooManyRedirectsError{URL: origin(via[0].URL)}
	}
	if err := c.policy.CheckURL(req.URL); err != nil {
		var d *DeniedError
		if errors.As(err, &d) {
			d.Reason += fmt.Sprintf(" (redirected from %s)", origin(via[len(via)-1].URL))
		}
		return err
	}
	req.Host = ""
	req.Header.Del("Host")
	return nil
}

// dial resolves the host itself and connects only to allowed addresses.
func (c *Client) dial(ctx context.Context, network, hostport string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portStr, err)
	}
	addrs, err := c.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, a := range addrs {
		if !c.policy.AddrAllowed(a) {
			if firstErr == nil {
				firstErr = c.deniedDial(hostport, a)
			}
			continue
		}
		conn, err := c.dialer.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func (c *Client) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return addrs, nil
}

func (c *Client) deniedDial(hostport string, a netip.Addr) *DeniedError {
	return &DeniedError{URL: hostport, Reason: fmt.Sprintf(
		"resolves to %s, a link-local or unspecified address refused unless listed literally (IP or CIDR) in %s", a.Unmap(), Setting)}
}

// control checks the address the socket is about to connect to: the last
// word, whatever resolved it.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: unexpected dial address %q: %w", address, err)
	}
	if !c.policy.AddrAllowed(ap.Addr()) {
		return c.deniedDial(address, ap.Addr())
	}
	return nil
}

// slotBody frees the call's slot once, when the body is closed.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
