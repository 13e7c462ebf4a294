package nethttp

import (
	"io"
	"net/http"
	"strconv"

	"github.com/wasmcluster/wasmcluster/abi/guest/outbound"
)

// Transport sends requests through the host. The zero value is ready.
type Transport struct{}

// RoundTrip implements http.RoundTripper.
func (Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := outbound.Open(req.Method, req.URL.String())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if err := send(c, req); err != nil {
		c.Close()
		return nil, err
	}
	status, err := c.Send()
	if err != nil {
		c.Close()
		return nil, err
	}
	h, err := header(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp := &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: c, ContentLength: -1, Request: req,
	}
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = n
	}
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// send adds req's headers and streams its body.
func send(c *outbound.Call, req *http.Request) error {
	defer closeBody(req)
	for k, vs := range req.Header {
		for _, v := range vs {
			if err := c.AddHeader(k, v); err != nil {
				return err
			}
		}
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	if req.ContentLength > 0 {
		if err := c.AddHeader("Content-Length", strconv.FormatInt(req.ContentLength, 10)); err != nil {
			return err
		}
	}
	buf := make([]byte, 32<<10)
	_, err := io.CopyBuffer(writerOnly{c}, req.Body, buf)
	return err
}

// writerOnly hides Call's Read from io.CopyBuffer.
type writerOnly struct{ c *outbound.Call }

func (w writerOnly) Write(p []byte) (int, error) { return w.c.Write(p) }

func header(c *outbound.Call) (http.Header, error) {
	names, err := c.HeaderNames()
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(names))
	for _, n := range names {
		vs, err := c.Header(n)
		if err != nil {
			return nil, err
		}
		h[http.CanonicalHeaderKey(n)] = vs
	}
	return h, nil
}
