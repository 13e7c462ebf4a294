package guest

import (
	"strings"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Request is the request being served. It is valid only during the call of
// the handler (or response hook) it is passed to: do not keep it. Getters
// ask the host the first time and cache the answer.
type Request struct {
	seq  uint32
	next bool

	method, uri, proto, addr string
	has                      uint8 // bit set of cached fields

	body Body
}

const (
	hasMethod = 1 << iota
	hasURI
	hasProto
	hasAddr
)

// reset prepares r for a new request. It writes only scalar fields: the
// cached strings stay until overwritten (has guards them), which avoids the
// write-barrier calls a whole-struct assignment costs in wasm.
func (r *Request) reset(seq uint32) {
	r.seq, r.next, r.has = seq, false, 0
	r.body = Body{kind: abi.BodyKindRequest}
}

// Method returns the request method, e.g. "GET".
func (r *Request) Method() string {
	if r.has&hasMethod == 0 {
		r.method = intern(readHost(hostGetMethod))
		r.has |= hasMethod
	}
	return r.method
}

// SetMethod changes the method seen by next. Only valid before next runs.
func (r *Request) SetMethod(method string) {
	hostSetMethod(method)
	r.method = method
	r.has |= hasMethod
}

// URI returns the request target as sent by the client: the escaped path
// and query, e.g. "/search?q=a%26b".
func (r *Request) URI() string {
	if r.has&hasURI == 0 {
		r.uri = intern(readHost(hostGetURI))
		r.has |= hasURI
	}
	return r.uri
}

// Path returns URI without its query.
func (r *Request) Path() string {
	path, _, _ := strings.Cut(r.URI(), "?")
	return path
}

// Query returns the raw query of URI (after '?'), or "".
func (r *Request) Query() string {
	_, query, _ := strings.Cut(r.URI(), "?")
	return query
}

// SetURI changes the request target seen by next (path and query, escaped).
// Only valid before next runs.
func (r *Request) SetURI(uri string) {
	hostSetURI(uri)
	r.uri = uri
	r.has |= hasURI
}

// Proto returns the protocol version, e.g. "HTTP/1.1" or "HTTP/2.0".
func (r *Request) Proto() string {
	if r.has&hasProto == 0 {
		r.proto = intern(readHost(hostGetProtocolVersion))
		r.has |= hasProto
	}
	return r.proto
}

// RemoteAddr returns the client's address as "ip:port".
func (r *Request) RemoteAddr() string {
	if r.has&hasAddr == 0 {
		r.addr = string(readHost(hostGetSourceAddr))
		r.has |= hasAddr
	}
	return r.addr
}

// Header returns the request headers. Changes are seen by next.
func (r *Request) Header() Header { return Header{kind: abi.HeaderKindRequest} }

// Trailer returns the request trailers. Needs FeatureTrailers; they are
// known only after the body was read to the end.
func (r *Request) Trailer() Header { return Header{kind: abi.HeaderKindRequestTrailers} }

// Body returns the request body, streamed from the host on each Read. What
// the handler reads is not seen by next unless FeatureBufferRequest is on.
func (r *Request) Body() *Body { return &r.body }

// Next asks the host to pass the request to the next handler (the upstream,
// or the host's 404) once the handler returns. The handler must not write a
// response body then; it may still set response headers, which next's
// response extends. A hook registered with HandleResponseFunc runs after
// next answered.
func (r *Request) Next() { r.next = true }

// IsNext reports whether the handler called Next.
func (r *Request) IsNext() bool { return r.next }
