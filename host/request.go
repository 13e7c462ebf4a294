package host

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// streamThreshold is how much response body a guest may write before the
// host commits status and headers and streams the rest. Below it, the guest
// may still change status and headers after writing the body.
const streamThreshold = 64 << 10

// phase is where a request is in the http-wasm lifecycle; it decides which
// ABI calls are allowed. The request can change only before next. The
// response can change before next, and after next only when next's
// response was captured (buffer_response). A request moves forward through
// the phases in the order they are declared, skipping some.
type phase uint8

const (
	// phaseIdle: no request; the instance is initializing or in the pool.
	phaseIdle phase = iota
	// phaseRequest: before next; the host holds the response the guest
	// writes and sends it when the guest is done.
	phaseRequest
	// phaseStreaming: before next, with status and headers sent because the
	// guest's body outgrew streamThreshold (or, on the way to passthrough,
	// because next appends to a body the guest wrote): the rest of the body
	// goes straight to the client.
	phaseStreaming
	// phasePassthrough: next ran writing straight to the client; the guest
	// may read the response but not change it.
	phasePassthrough
	// phaseCaptured: next ran into a buffer (buffer_response); the guest may
	// rewrite the response before the host sends it.
	phaseCaptured
)

func (ph phase) String() string {
	switch ph {
	case phaseIdle:
		return "idle"
	case phaseRequest:
		return "request"
	case phaseStreaming:
		return "streaming"
	case phasePassthrough:
		return "passthrough"
	case phaseCaptured:
		return "captured"
	}
	return "phase(" + strconv.Itoa(int(ph)) + ")"
}

// afterNext reports whether next has run (or is running).
func (ph phase) afterNext() bool { return ph >= phasePassthrough }

// request is the state of one request while an instance serves it. Host
// functions reach it through the instance on the call's context.
type request struct {
	w        http.ResponseWriter
	r        *http.Request
	features abi.Features
	phase    phase
	// deadline bounds the whole request, next included (for an upgrade,
	// until its connection is handed over).
	deadline time.Time
	// upgrade: the request switches protocols (Connection: Upgrade); next
	// streams straight to the client and handle_response does not run.
	upgrade bool
	// extErr explains the latest failed extension call (last_error).
	extErr string
	// outbound are the request's open outbound HTTP calls (outbound.go).
	outbound outboundCalls
	// kv is what the request read and wrote in the shared store (kv_state.go).
	kv *kvState

	// Request body as the guest reads it.
	bodyEOF    bool
	bodyRead   int64  // bytes the guest read from the request body
	replay     []byte // bytes read by the guest, kept for next when buffer_request
	newBody    []byte // body written by the guest for next
	newBodySet bool

	// Response as the guest writes it (before next) or as next produced it
	// (phaseCaptured).
	status      int
	respBody    []byte
	respBodySet bool // a write_body happened in the current phase
	respReadOff int
	nextWrote   bool          // phaseCaptured: next wrote headers into the capture
	overflow    bool          // phaseCaptured: next's response outgrew MaxBufferedResponse
	sent        *statusWriter // phasePassthrough: next's writer, which keeps its status
	big         *offHeap      // phaseCaptured: respBody's buffer once it outgrew maxRetained

	scratch []byte            // reused for multi-value results
	canon   map[string]string // guest header name -> canonical, kept across requests
	values  map[string]string // short guest header values, kept across requests
	clen    [1]string         // the last Content-Length value finish set
}

// readRequestBody reads into dst (a view of guest memory) and reports EOF.
func (rq *request) readRequestBody(dst []byte) (n int, eof bool) {
	if rq.bodyEOF || rq.r.Body == nil || rq.r.Body == http.NoBody {
		rq.bodyEOF = true
		return 0, true
	}
	if len(dst) == 0 {
		return 0, false
	}
	var err error
	for n == 0 && err == nil {
		n, err = rq.r.Body.Read(dst)
	}
	rq.bodyRead += int64(n)
	if rq.features.Has(abi.FeatureBufferRequest) {
		rq.replay = append(rq.replay, dst[:n]...)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			panic(errBodyTooLarge)
		}
		if err != io.EOF {
			fault("read_body: reading the request body: %v", err)
		}
		rq.bodyEOF = true
	}
	return n, rq.bodyEOF
}

// nextBody is the request body next receives: the guest's replacement, or
// what the guest read (replayed when buffered) followed by the rest.
func (rq *request) nextBody() (io.ReadCloser, int64) {
	r := rq.r
	switch {
	case rq.newBodySet:
		return io.NopCloser(bytes.NewReader(rq.newBody)), int64(len(rq.newBody))
	case len(rq.replay) > 0 && rq.bodyEOF:
		return io.NopCloser(bytes.NewReader(rq.replay)), int64(len(rq.replay))
	case len(rq.replay) > 0:
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(rq.replay), r.Body), r.Body}, r.ContentLength
	case rq.bodyEOF:
		return http.NoBody, 0
	case rq.bodyRead > 0 && r.ContentLength > 0:
		// The guest consumed part of the body without buffer_request: next
		// gets the rest, and a length that matches it.
		return r.Body, r.ContentLength - rq.bodyRead
	default:
		return r.Body, r.ContentLength
	}
}

// writeResponseBody implements write_body for the response.
func (rq *request) writeResponseBody(b []byte) {
	if rq.phase == phaseStreaming {
		if _, err := rq.w.Write(b); err != nil {
			fault("write_body: client write failed: %v", err)
		}
		return
	}
	if !rq.respBodySet {
		rq.respBody = rq.respBody[:0]
		rq.respReadOff = 0
		rq.respBodySet = true
	}
	rq.respBody = append(rq.respBody, b...)
	if rq.phase == phaseRequest && len(rq.respBody) > streamThreshold {
		rq.commit()
	}
}

// commit sends status and headers and whatever body is buffered; later
// body writes go straight to the client.
func (rq *request) commit() {
	rq.phase = phaseStreaming
	if !rq.bodyEOF {
		// The guest streams its answer while it may still read the request
		// (an echo): without full duplex, Go's HTTP/1 server discards the
		// unread request body once the response starts. HTTP/2 is always
		// full duplex and says so with an error we can ignore.
		_ = http.NewResponseController(rq.w).EnableFullDuplex()
	}
	status := rq.committedStatus()
	h := rq.w.Header()
	h.Del("Content-Length")
	rq.w.WriteHeader(status)
	if len(rq.respBody) > 0 {
		if _, err := rq.w.Write(rq.respBody); err != nil {
			fault("write_body: client write failed: %v", err)
		}
	}
	rq.respBody = rq.respBody[:0]
}

func (rq *request) committedStatus() int {
	if rq.status == 0 {
		return http.StatusOK
	}
	return rq.status
}

// finish writes the response the guest produced (next=0) or the captured,
// possibly rewritten, response of next (buffer_response).
func (rq *request) finish() {
	if rq.phase == phaseStreaming {
		return
	}
	status := rq.status
	if status == 0 {
		status = http.StatusOK
	}
	h := rq.w.Header()
	// The body is whole here, so its length is known: recompute rather than
	// trust a Content-Length set by next before the guest rewrote the body.
	h.Del("Transfer-Encoding")
	if bodyAllowed(status) && !hasTrailers(h) {
		// One value slice per instance, not one per request: WriteHeader
		// copies the header before anything reads it.
		if n := strconv.Itoa(len(rq.respBody)); n != rq.clen[0] {
			rq.clen[0] = n
		}
		h["Content-Length"] = rq.clen[:1:1]
	} else {
		h.Del("Content-Length")
	}
	rq.w.WriteHeader(status)
	if len(rq.respBody) > 0 && bodyAllowed(status) {
		_, _ = rq.w.Write(rq.respBody) // a client gone away is not the guest's fault
	}
	// The body is sent: an instance waiting in the pool must not pin a
	// large one (a buffered response of up to MaxBufferedResponse) until
	// its next request.
	rq.releaseBig()
	rq.respBody = keep(rq.respBody)
}

// releaseBig gives back the off-heap buffer of a large buffered response.
func (rq *request) releaseBig() {
	if rq.big != nil {
		rq.respBody = nil // it may point into the mapping
		rq.big.release()
		rq.big = nil
	}
}

// hasTrailers reports whether the response carries trailers, which need a
// chunked body and so no Content-Length.
func hasTrailers(h http.Header) bool {
	if _, ok := h["Trailer"]; ok {
		return true
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// normalizeTrailers rewrites trailers next declared with the "Trailer"
// header into http.TrailerPrefix keys, the one form the guest reads and
// edits as the response-trailers kind.
func normalizeTrailers(h http.Header) {
	declared, ok := h["Trailer"]
	if !ok {
		return
	}
	delete(h, "Trailer")
	for _, line := range declared {
		for _, name := range strings.Split(line, ",") {
			key := http.CanonicalHeaderKey(strings.TrimSpace(name))
			if key == "" {
				continue
			}
			if v, ok := h[key]; ok {
				h[http.TrailerPrefix+key] = v
				delete(h, key)
			}
		}
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// nextAnswered reports whether next produced an answer: wrote headers to
// the client, or to the capture buffer.
func (rq *request) nextAnswered() bool {
	switch rq.phase {
	case phaseCaptured:
		return rq.nextWrote
	case phasePassthrough:
		return rq.sent.status != 0
	}
	return false
}

// captureWriter records next's status and body for handle_response. Headers
// go straight into the real response's header map, which the guest edits.
type captureWriter struct {
	rq    *request
	limit int64
}

func (c *captureWriter) Header() http.Header { return c.rq.w.Header() }

func (c *captureWriter) WriteHeader(status int) {
	if c.rq.nextWrote || status < 200 {
		return
	}
	c.rq.nextWrote = true
	c.rq.status = status
}

// errResponseTooLarge fails next's writes past Config.MaxBufferedResponse.
var errResponseTooLarge = errors.New("response too large to buffer for handle_response")

func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	n := int64(len(c.rq.respBody) + len(b))
	if n > c.limit {
		c.rq.overflow = true
		return 0, errResponseTooLarge
	}
	if n > maxRetained && c.rq.big == nil {
		// Past what an instance keeps, the body moves to a buffer of its
		// own, outside the Go heap, sized for the limit (no regrowth) and
		// given back to the OS when the response is sent.
		if big := newOffHeap(int(c.limit)); big != nil {
			c.rq.big = big
			c.rq.respBody = append(big.mem[:0], c.rq.respBody...)
		}
	}
	c.rq.respBody = append(c.rq.respBody, b...)
	return len(b), nil
}

// Flush is a no-op: the whole response is held for handle_response.
func (c *captureWriter) Flush() {}

// statusWriter passes next's response through, remembering the status so
// handle_response can read it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	if s.status != 0 {
		return // already sent (the guest's committed response, or a repeat)
	}
	if status >= 200 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush forwards streaming flushes (e.g. from the reverse proxy).
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// detach copies the request state off its instance, which can then serve
// another request: the buffers next still needs are cloned, the
// per-instance caches are left behind.
func (rq *request) detach() *request {
	d := *rq
	d.replay = bytes.Clone(rq.replay)
	d.newBody = bytes.Clone(rq.newBody)
	d.respBody = bytes.Clone(rq.respBody)
	d.big = nil // never set before next, when requests are detached
	d.scratch, d.canon, d.values = nil, nil, nil
	return &d
}

// maxRetained bounds the buffers an instance keeps between requests, so one
// large request does not pin its memory for the instance's life.
const maxRetained = 1 << 20

// reset prepares the instance's request state for a new request, keeping
// small buffers to avoid allocating on the hot path.
func (rq *request) reset(w http.ResponseWriter, r *http.Request, features abi.Features) {
	rq.releaseBig() // left by a request that failed before its response was sent
	*rq = request{
		w:        w,
		r:        r,
		features: features,
		phase:    phaseRequest,
		replay:   keep(rq.replay),
		newBody:  keep(rq.newBody),
		respBody: keep(rq.respBody),
		scratch:  keep(rq.scratch),
		canon:    rq.canon,
		values:   rq.values,
		clen:     rq.clen,
	}
}

func keep(b []byte) []byte {
	if cap(b) > maxRetained {
		return nil
	}
	return b[:0]
}
