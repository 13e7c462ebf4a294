package outbound

import (
	"io"
	"strings"
	"unsafe"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Error is a failed call: its status and the host's explanation.
type Error struct {
	Status  abi.Status
	Message string // from last_error, e.g. "outbound: http://10.0.0.1 is not in outbound.allow"
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "outbound: " + e.Status.String()
	}
	return e.Message
}

func fail(s abi.Status) error { return &Error{Status: s, Message: lastError()} }

func lastError() string {
	buf := make([]byte, 256)
	n := hostLastError(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
	if int(n) > len(buf) {
		buf = make([]byte, n)
		n = hostLastError(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
	}
	return string(buf[:n])
}

func ptr(p []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(p)) }

// Call is one outbound request: Open, then AddHeader and Write, Send, then
// Header and Read, and Close.
type Call struct {
	h      uint32
	status int
	eof    bool
}

// Open starts a call of method to url (an absolute http or https URL).
// Nothing is sent yet. The target is checked now: a refused one is an
// *Error with abi.StatusDenied.
func Open(method, url string) (*Call, error) {
	r := abi.StatusLen(hostOpen(method, url))
	if s := r.Status(); s != abi.StatusOK {
		return nil, fail(s)
	}
	return &Call{h: r.Len()}, nil
}

// AddHeader adds a request header (before the first Write or Send). A Host
// header is ignored: the URL names the host.
func (c *Call) AddHeader(name, value string) error {
	if s := abi.Status(hostAddHeader(c.h, name, value)); s != abi.StatusOK {
		return fail(s)
	}
	return nil
}

// Write streams p as the next part of the request body; the first Write
// sends the headers.
func (c *Call) Write(p []byte) (int, error) {
	if s := abi.Status(hostWriteBody(c.h, ptr(p), uint32(len(p)))); s != abi.StatusOK {
		return 0, fail(s)
	}
	return len(p), nil
}

// Send ends the request and waits for the response's status and headers.
func (c *Call) Send() (status int, err error) {
	r := abi.StatusLen(hostSend(c.h))
	if s := r.Status(); s != abi.StatusOK {
		return 0, fail(s)
	}
	c.status = int(r.Len())
	return c.status, nil
}

// HeaderNames returns the response's header names, lowercase and sorted.
func (c *Call) HeaderNames() ([]string, error) {
	b, err := c.multi(func(buf []byte) uint64 { return hostHeaderNames(c.h, ptr(buf), uint32(len(buf))) })
	return splitNUL(b), err
}

// Header returns the response's values of header name.
func (c *Call) Header(name string) ([]string, error) {
	b, err := c.multi(func(buf []byte) uint64 { return hostHeaderValues(c.h, name, ptr(buf), uint32(len(buf))) })
	return splitNUL(b), err
}

func (c *Call) multi(call func([]byte) uint64) ([]byte, error) {
	buf := make([]byte, 512)
	for {
		r := abi.StatusLen(call(buf))
		if s := r.Status(); s != abi.StatusOK {
			return nil, fail(s)
		}
		if int(r.Len()) <= len(buf) {
			return buf[:r.Len()], nil
		}
		buf = make([]byte, r.Len())
	}
}

func splitNUL(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// Read reads the response body (io.Reader); io.EOF at its end.
func (c *Call) Read(p []byte) (int, error) {
	if c.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r := abi.StatusEOFLen(hostReadBody(c.h, ptr(p), uint32(len(p))))
		if s := r.Status(); s != abi.StatusOK {
			return 0, fail(s)
		}
		n := int(r.Len())
		if r.EOF() {
			c.eof = true
			if n == 0 {
				return 0, io.EOF
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

// Close ends the call; an unread body is discarded.
func (c *Call) Close() error {
	if c.h == 0 {
		return nil
	}
	s := abi.Status(hostClose(c.h))
	c.h = 0
	if s != abi.StatusOK {
		return fail(s)
	}
	return nil
}

// Response is what Fetch returns.
type Response struct {
	Status int
	Body   []byte
}

// Fetch makes a call with an optional body and reads the whole response
// body (capped by the server's outbound.max_response_body).
func Fetch(method, url string, body []byte) (*Response, error) {
	c, err := Open(method, url)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if len(body) > 0 {
		if _, err := c.Write(body); err != nil {
			return nil, err
		}
	}
	status, err := c.Send()
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return nil, err
	}
	return &Response{Status: status, Body: b}, nil
}
