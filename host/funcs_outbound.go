package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// outboundFuncs are the outbound HTTP functions (abi/outbound.go).
var outboundFuncs = []hostFunc{
	{abi.FuncOutboundOpen, sig(params(i32, i32, i32, i32), i64), (*Plugin).outboundOpen},
	{abi.FuncOutboundAddHeader, sig(params(i32, i32, i32, i32, i32), i32), (*Plugin).outboundAddHeader},
	{abi.FuncOutboundWriteBody, sig(params(i32, i32, i32), i32), (*Plugin).outboundWriteBody},
	{abi.FuncOutboundSend, sig(params(i32), i64), (*Plugin).outboundSend},
	{abi.FuncOutboundGetHeaderNames, sig(params(i32, i32, i32), i64), (*Plugin).outboundHeaderNames},
	{abi.FuncOutboundGetHeaderValues, sig(params(i32, i32, i32, i32, i32), i64), (*Plugin).outboundHeaderValues},
	{abi.FuncOutboundReadBody, sig(params(i32, i32, i32), i64), (*Plugin).outboundReadBody},
	{abi.FuncOutboundClose, sig(params(i32), i32), (*Plugin).outboundClose},
}

// outbound_open(method, method_len, url, url_len) -> StatusLen(handle)
func (p *Plugin) outboundOpen(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundOpen
	rq := requestOf(ctx, fn)
	method := string(readMem(mod, fn, uint32(stack[0]), uint32(stack[1])))
	raw := string(readMem(mod, fn, uint32(stack[2]), uint32(stack[3])))
	s, h := p.openCall(rq, method, raw)
	stack[0] = uint64(abi.NewStatusLen(s, h))
}

func (p *Plugin) openCall(rq *request, method, raw string) (abi.Status, uint32) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p.extFail(rq, abi.StatusInvalid, "outbound: bad URL %q: want an absolute http or https URL", raw), 0
	}
	if method == "" || !validToken([]byte(method)) {
		return p.extFail(rq, abi.StatusInvalid, "outbound: bad method %q", method), 0
	}
	target := u.Host
	if p.cfg.Outbound == nil {
		p.stats.outbound.count(target, abi.StatusNotGranted)
		return p.extFail(rq, abi.StatusNotGranted,
			"outbound: %s://%s is not in outbound.allow (outbound HTTP is not granted: outbound.allow is empty)", u.Scheme, u.Host), 0
	}
	slot := -1
	for i, c := range rq.outbound {
		if c == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		return p.extFail(rq, abi.StatusTooLarge, "outbound: %d calls already open in this request (outbound_close some)", abi.OutboundMaxHandles), 0
	}
	c := &outboundCall{target: target, stats: &p.stats.outbound}
	c.ctx, c.cancel = p.callContext(rq)
	req, err := http.NewRequestWithContext(c.ctx, method, u.String(), nil)
	if err == nil {
		err = p.cfg.Outbound.Check(req)
	}
	if err != nil {
		c.cancel()
		s := statusOf(err, abi.StatusInvalid)
		p.stats.outbound.count(target, s)
		return p.extFail(rq, s, "outbound: %v", err), 0
	}
	c.req = req
	rq.outbound[slot] = c
	return abi.StatusOK, uint32(slot + 1)
}

// callContext bounds a call by the request's deadline and outbound.timeout;
// it ends when the client leaves.
func (p *Plugin) callContext(rq *request) (context.Context, context.CancelFunc) {
	d := time.Now().Add(p.cfg.OutboundGrant.Timeout)
	if !rq.deadline.IsZero() && rq.deadline.Before(d) {
		d = rq.deadline
	}
	return context.WithDeadline(rq.r.Context(), d)
}

// statusOf is the status an error carries, else def.
func statusOf(err error, def abi.Status) abi.Status {
	var se StatusError
	if errors.As(err, &se) {
		return se.Status()
	}
	return def
}

// call returns the open call behind handle h, or nil after recording why.
func (p *Plugin) call(rq *request, fn string, h uint32) *outboundCall {
	if h == 0 || h > abi.OutboundMaxHandles || rq.outbound[h-1] == nil {
		p.extFail(rq, abi.StatusInvalid, "outbound: %s: no open call with handle %d", fn, h)
		return nil
	}
	return rq.outbound[h-1]
}

// callFailed turns a failed I/O of c into the status the guest sees. Past
// the request's own deadline the request is over: it ends like any guest
// work past its deadline (504), and a client that left ends it too.
func (p *Plugin) callFailed(rq *request, c *outboundCall, fn string, err error) abi.Status {
	s := statusOf(err, abi.StatusUnavailable)
	if c.ctx.Err() != nil && s == abi.StatusUnavailable {
		if cause := context.Cause(rq.r.Context()); cause != nil {
			panic(fmt.Errorf("%s: the client went away: %w", fn, cause))
		}
		if !rq.deadline.IsZero() && !time.Now().Before(rq.deadline) {
			panic(fmt.Errorf("%s: %s %s: the request's deadline passed: %w", fn, c.req.Method, c.req.URL.Redacted(), context.DeadlineExceeded))
		}
		s = abi.StatusTimeout
		err = fmt.Errorf("no complete answer within outbound.timeout (%s)", p.cfg.OutboundGrant.Timeout)
	}
	if c.result == abi.StatusOK {
		c.result = s
	}
	if s == abi.StatusDenied {
		return p.extFail(rq, s, "outbound: %v", err)
	}
	return p.extFail(rq, s, "outbound: %s %s: %v", c.req.Method, c.req.URL.Redacted(), err)
}

// outbound_add_header(h, name, name_len, value, value_len) -> Status
func (p *Plugin) outboundAddHeader(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundAddHeader
	rq := requestOf(ctx, fn)
	name := readMem(mod, fn, uint32(stack[1]), uint32(stack[2]))
	value := readMem(mod, fn, uint32(stack[3]), uint32(stack[4]))
	c := p.call(rq, fn, uint32(stack[0]))
	switch {
	case c == nil:
		stack[0] = uint64(abi.StatusInvalid)
	case c.sent || c.pw != nil:
		stack[0] = uint64(p.extFail(rq, abi.StatusInvalid, "outbound: %s: the request's headers were already sent", fn))
	case len(name) == 0 || !validToken(name) || !validHeaderValue(value):
		stack[0] = uint64(p.extFail(rq, abi.StatusInvalid, "outbound: %s: bad header %q: %q", fn, name, value))
	default:
		k := http.CanonicalHeaderKey(string(name))
		if k == "Host" {
			stack[0] = uint64(abi.StatusOK) // the URL decides the virtual host
			return
		}
		if k == "Content-Length" {
			if n, err := strconv.ParseInt(string(value), 10, 64); err == nil && n >= 0 {
				c.req.ContentLength = n
			}
			stack[0] = uint64(abi.StatusOK)
			return
		}
		c.req.Header.Add(k, string(value))
		stack[0] = uint64(abi.StatusOK)
	}
}

func validHeaderValue(v []byte) bool {
	for _, b := range v {
		if b == '\r' || b == '\n' || b == 0 {
			return false
		}
	}
	return true
}

// outbound_write_body(h, buf, buf_len) -> Status
func (p *Plugin) outboundWriteBody(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundWriteBody
	rq := requestOf(ctx, fn)
	b := readMem(mod, fn, uint32(stack[1]), uint32(stack[2]))
	c := p.call(rq, fn, uint32(stack[0]))
	switch {
	case c == nil:
		stack[0] = uint64(abi.StatusInvalid)
	case c.sent:
		stack[0] = uint64(p.extFail(rq, abi.StatusInvalid, "outbound: %s: the request was already sent", fn))
	default:
		if c.pw == nil {
			p.startStreaming(c)
		}
		if _, err := c.pw.Write(b); err != nil {
			<-c.done // the transport gave up on the body: Do says why
			if c.err != nil {
				err = c.err
			}
			c.sent = true
			stack[0] = uint64(p.callFailed(rq, c, fn, err))
			return
		}
		stack[0] = uint64(abi.StatusOK)
	}
}

// startStreaming sends c's headers now and its body as the guest writes it.
func (p *Plugin) startStreaming(c *outboundCall) {
	pr, pw := io.Pipe()
	c.pw, c.done = pw, make(chan struct{})
	c.req.Body = pr
	if c.req.ContentLength == 0 {
		c.req.ContentLength = -1 // unknown: chunked
	}
	stop := context.AfterFunc(c.ctx, func() { pr.CloseWithError(context.Cause(c.ctx)) })
	go func() {
		defer close(c.done)
		defer stop()
		c.resp, c.err = p.cfg.Outbound.Do(c.req)
		if c.err != nil {
			pr.CloseWithError(c.err) // a write waiting on the body returns
		}
	}()
}

// outbound_send(h) -> StatusLen(HTTP status)
func (p *Plugin) outboundSend(ctx context.Context, _ api.Module, stack []uint64) {
	fn := abi.FuncOutboundSend
	rq := requestOf(ctx, fn)
	c := p.call(rq, fn, uint32(stack[0]))
	switch {
	case c == nil:
		stack[0] = uint64(abi.NewStatusLen(abi.StatusInvalid, 0))
		return
	case c.sent:
		stack[0] = uint64(abi.NewStatusLen(p.extFail(rq, abi.StatusInvalid, "outbound: %s: already sent", fn), 0))
		return
	}
	c.sent = true
	var err error
	if c.pw != nil {
		c.pw.Close()
		<-c.done
		err = c.err
	} else {
		c.resp, err = p.cfg.Outbound.Do(c.req)
	}
	if err != nil {
		c.resp = nil
		stack[0] = uint64(abi.NewStatusLen(p.callFailed(rq, c, fn, err), 0))
		return
	}
	stack[0] = uint64(abi.NewStatusLen(abi.StatusOK, uint32(c.resp.StatusCode)))
}

// received returns the call behind h once its response arrived.
func (p *Plugin) received(rq *request, fn string, h uint32) *outboundCall {
	c := p.call(rq, fn, h)
	if c != nil && c.resp == nil {
		p.extFail(rq, abi.StatusInvalid, "outbound: %s: handle %d has no response (outbound_send first)", fn, h)
		return nil
	}
	return c
}

// outbound_get_header_names(h, buf, buf_limit) -> StatusLen
func (p *Plugin) outboundHeaderNames(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundGetHeaderNames
	rq := requestOf(ctx, fn)
	c := p.received(rq, fn, uint32(stack[0]))
	if c == nil {
		stack[0] = uint64(abi.NewStatusLen(abi.StatusInvalid, 0))
		return
	}
	rq.scratch = appendHeaderNames(rq.scratch[:0], c.resp.Header)
	n := writeResult(mod, fn, uint32(stack[1]), uint32(stack[2]), rq.scratch)
	stack[0] = uint64(abi.NewStatusLen(abi.StatusOK, n))
}

// outbound_get_header_values(h, name, name_len, buf, buf_limit) -> StatusLen
func (p *Plugin) outboundHeaderValues(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundGetHeaderValues
	rq := requestOf(ctx, fn)
	name := string(readMem(mod, fn, uint32(stack[1]), uint32(stack[2])))
	c := p.received(rq, fn, uint32(stack[0]))
	if c == nil {
		stack[0] = uint64(abi.NewStatusLen(abi.StatusInvalid, 0))
		return
	}
	rq.scratch = appendHeaderValues(rq.scratch[:0], c.resp.Header, name)
	n := writeResult(mod, fn, uint32(stack[3]), uint32(stack[4]), rq.scratch)
	stack[0] = uint64(abi.NewStatusLen(abi.StatusOK, n))
}

// outbound_read_body(h, buf, buf_limit) -> StatusEOFLen
func (p *Plugin) outboundReadBody(ctx context.Context, mod api.Module, stack []uint64) {
	fn := abi.FuncOutboundReadBody
	rq := requestOf(ctx, fn)
	dst := readMem(mod, fn, uint32(stack[1]), uint32(stack[2]))
	c := p.received(rq, fn, uint32(stack[0]))
	if c == nil {
		stack[0] = uint64(abi.NewStatusEOFLen(abi.StatusInvalid, false, 0))
		return
	}
	n, eof, s := p.readCall(rq, c, dst)
	stack[0] = uint64(abi.NewStatusEOFLen(s, eof, uint32(n)))
}

// readCall reads at most len(dst) bytes of c's response body, never more
// than one byte past outbound.max_response_body (which fails the read).
func (p *Plugin) readCall(rq *request, c *outboundCall, dst []byte) (int, bool, abi.Status) {
	if c.eof || len(dst) == 0 {
		return 0, c.eof, abi.StatusOK
	}
	max := p.cfg.OutboundGrant.MaxResponseBody
	if c.read > max { // a read after the one that crossed the cap
		return 0, false, p.extFail(rq, abi.StatusTooLarge, "outbound: response body is over outbound.max_response_body (%d bytes)", max)
	}
	if room := max - c.read + 1; int64(len(dst)) > room {
		dst = dst[:room]
	}
	var n int
	var err error
	for n == 0 && err == nil {
		n, err = c.resp.Body.Read(dst)
	}
	c.read += int64(n)
	if c.read > max {
		c.resp.Body.Close()
		c.result = abi.StatusTooLarge
		return 0, false, p.extFail(rq, abi.StatusTooLarge, "outbound: %s %s: response body is over outbound.max_response_body (%d bytes)",
			c.req.Method, c.req.URL.Redacted(), max)
	}
	if err == io.EOF {
		c.eof = true
		return n, true, abi.StatusOK
	}
	if err != nil {
		return n, false, p.callFailed(rq, c, abi.FuncOutboundReadBody, err)
	}
	return n, false, abi.StatusOK
}

// outbound_close(h) -> Status
func (p *Plugin) outboundClose(ctx context.Context, _ api.Module, stack []uint64) {
	fn := abi.FuncOutboundClose
	rq := requestOf(ctx, fn)
	h := uint32(stack[0])
	c := p.call(rq, fn, h)
	if c == nil {
		stack[0] = uint64(abi.StatusInvalid)
		return
	}
	c.end()
	rq.outbound[h-1] = nil
	stack[0] = uint64(abi.StatusOK)
}
