package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// ServeHTTP runs the plugin for one request: handle_request, then next and
// handle_response when the guest asks for them, all on one instance.
//
// Like any net/http handler that must cut a response already under way (the
// guest trapped while streaming its body, or next failed after its headers
// went out), ServeHTTP panics with http.ErrAbortHandler. net/http treats that
// as "abort this connection quietly"; middleware that recovers panics must
// re-panic it.
func (p *Plugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.stats.requests.Add(1)
	if p.cfg.MaxRequestBody >= 0 {
		if r.ContentLength > p.cfg.MaxRequestBody {
			p.stats.tooLarge.Add(1)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, p.cfg.MaxRequestBody)
		}
	}
	start := time.Now()
	deadline := start.Add(p.cfg.RequestTimeout)
	inst, err := p.pool.get(r.Context(), deadline)
	if errors.Is(err, errPoolFull) {
		busy(w)
		return
	}
	if err != nil {
		p.fail(w, r, nil, fmt.Errorf("wait for a free plugin instance: %w", err))
		return
	}
	rq := &inst.rq
	rq.reset(w, r, inst.features)
	rq.deadline = deadline
	inst.begin(r, start)
	out := p.serve(&inst.call, inst, rq)
	if !out.released {
		p.pool.release(inst, out.err != nil)
	}
	if out.err != nil {
		p.fail(w, r, out.rq, out.err)
		return
	}
	if out.abort {
		// next failed after its headers went out: cut the connection, as
		// net/http does for a panicking handler, so the client cannot take
		// a truncated response for a whole one.
		panic(http.ErrAbortHandler)
	}
}

// outcome is how serve ended, for ServeHTTP to settle the instance and the
// client.
type outcome struct {
	rq       *request // the state to answer from (a detached copy once released)
	released bool     // the instance went back to the pool before next
	abort    bool     // the client's response must be cut (the instance is fine)
	err      error    // the guest or next failed; an unreleased instance is suspect
}

// serve runs the guest for one request.
func (p *Plugin) serve(ctx context.Context, inst *instance, rq *request) outcome {
	out := outcome{rq: rq}
	stack := inst.stack[:]
	if out.err = inst.handleRequest.CallWithStack(ctx, stack); out.err != nil {
		return out
	}
	ctxNext := abi.CtxNext(stack[0])
	if !ctxNext.Next() || rq.phase == phaseStreaming {
		rq.finish()
		return out
	}
	rq.upgrade = isUpgrade(rq.r.Header)
	hold, err := p.holdForResponse(ctx, inst, rq, ctxNext)
	if err != nil {
		out.err = err
		return out
	}
	if !hold {
		// Nothing more runs in the guest: other requests may use the instance
		// while next runs, so a slow upstream, a slow upload or a long-lived
		// stream does not hold it.
		rq = rq.detach()
		out.rq, out.released = rq, true
		p.pool.release(inst, false)
	}
	isError, nextErr := p.runNext(rq)
	if rq.overflow {
		p.log.Warn("next's response is larger than max_buffered_response; answering 502",
			slog.Int64("limit", p.cfg.MaxBufferedResponse))
		isError = true
	}
	if nextErr != nil && !rq.nextAnswered() {
		// next gave up at the deadline (or the client left) before
		// answering: nothing was sent, so the client gets the 504.
		out.err = fmt.Errorf("next: %w", nextErr)
		return out
	}
	if isDeadline(nextErr) {
		// next used up the request's time and answered for it (the
		// upstream proxy's 504): handle_response would start past the
		// deadline, so it is skipped, and the timeout is next's, not the
		// guest's.
		out.abort = rq.settle(isError)
		return out
	}
	if !out.released {
		stack[0], stack[1] = uint64(ctxNext.Ctx()), 0
		if isError {
			stack[1] = 1
		}
		if out.err = inst.handleResponse.CallWithStack(ctx, stack); out.err != nil {
			return out
		}
	}
	out.abort = rq.settle(isError)
	return out
}

// settle completes the response once next (and handle_response) ran. A
// failed next answers 502 when that is still possible; it reports whether
// the client's response must be cut instead.
func (rq *request) settle(nextFailed bool) (abort bool) {
	if rq.phase == phaseCaptured {
		if nextFailed {
			// What next left in the buffer is partial: answer 502 instead.
			rq.status, rq.respBody = http.StatusBadGateway, rq.respBody[:0]
		}
		rq.finish()
		return false
	}
	switch {
	case !nextFailed:
		return false
	case rq.sent.status == 0:
		rq.sent.WriteHeader(http.StatusBadGateway)
		return false
	default:
		return true // part of next's response went out
	}
}

// runNext calls the next handler with the request as the guest left it,
// bounded by the request's deadline. It reports whether next failed
// (panicked), and why next's context ended if it did (deadline, client).
func (p *Plugin) runNext(rq *request) (isError bool, ctxErr error) {
	ctx, cancel, guard := nextContext(withNextStats(rq.r.Context(), &p.stats), rq)
	defer func() {
		ctxErr = context.Cause(ctx)
		cancel()
	}()
	r2 := rq.r.WithContext(ctx)
	r2.Body, r2.ContentLength = rq.nextBody()
	if rq.newBodySet || (len(rq.replay) > 0 && rq.bodyEOF) {
		r2.Header.Del("Transfer-Encoding")
		r2.TransferEncoding = nil
	}
	w := p.nextWriter(rq)
	if guard != nil {
		w = upgradeWriter{statusWriter: rq.sent, g: guard}
	}
	defer func() {
		if rec := recover(); rec != nil {
			if rec != http.ErrAbortHandler { // the proxy's way to say the upstream broke mid-body
				p.log.Error("next handler failed", slog.Any("panic", rec))
			}
			isError = true
		}
	}()
	p.next.ServeHTTP(w, r2)
	if rq.phase == phaseCaptured {
		normalizeTrailers(rq.w.Header())
	}
	return false, nil
}

// nextWriter moves rq past next and returns the writer next answers into:
// a capture buffer with buffer_response, else the client.
func (p *Plugin) nextWriter(rq *request) http.ResponseWriter {
	if rq.features.Has(abi.FeatureBufferResponse) && !rq.upgrade {
		rq.phase = phaseCaptured
		// A body the guest wrote before next stays, and next appends to it
		// (as with the reference host); the first write_body in
		// handle_response replaces the whole body.
		rq.respBodySet, rq.respReadOff = false, 0
		return &captureWriter{rq: rq, limit: p.cfg.MaxBufferedResponse}
	}
	if rq.phase == phaseRequest && rq.respBodySet {
		// The guest already wrote a body: it goes out first, as a streaming
		// response would, and next can only append to it.
		rq.commit()
	}
	rq.sent = &statusWriter{ResponseWriter: rq.w}
	if rq.phase == phaseStreaming {
		rq.sent.status = rq.committedStatus()
	}
	rq.phase = phasePassthrough
	return rq.sent
}

// fail answers a request whose guest failed, without leaking guest details:
// the full error goes to the log with a request id, the client gets the id.
func (p *Plugin) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	id := requestID(r)
	status, msg := http.StatusInternalServerError, "plugin failed"
	ctxErr := context.Cause(r.Context())
	switch {
	case errors.Is(err, errBodyTooLarge):
		p.stats.tooLarge.Add(1)
		status, msg = http.StatusRequestEntityTooLarge, "request body too large"
	case ctxErr != nil:
		// The client went away; nobody reads the answer.
		p.log.Debug("request canceled by client", slog.String("request_id", id), slog.Any("err", firstLineErr(err)))
		return
	case isDeadline(err):
		p.stats.timeouts.Add(1)
		status, msg = http.StatusGatewayTimeout, "plugin timed out"
		p.log.Warn("plugin timed out", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("uri", r.RequestURI), slog.Duration("timeout", p.cfg.RequestTimeout))
	default:
		p.stats.traps.Add(1)
		p.log.Error("plugin failed", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("uri", r.RequestURI), slog.Any("err", err), abortAttr(err))
	}
	if rq != nil && rq.phase == phasePassthrough && rq.nextAnswered() {
		// next already answered the client; the guest failed only in
		// handle_response, so that answer stands.
		return
	}
	if rq != nil && rq.phase == phaseStreaming {
		// The guest was streaming its body: abort the connection rather than
		// let a truncated body pass for a whole one.
		panic(http.ErrAbortHandler)
	}
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Request-Id", id)
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s: %s (request id %s)\n", strings.ToLower(http.StatusText(status)), msg, id)
}

func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}

func firstLineErr(err error) string {
	if err == nil {
		return ""
	}
	return firstLine(err)
}

// requestID is the client's X-Request-Id when it is sane, else a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && validToken([]byte(id)) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
