package guest

import (
	"unsafe"

	"github.com/wasmcluster/wasmcluster/abi"
)

// ResponseWriter builds the response, like net/http's: set headers and the
// status before the first Write, then write the body. The host may stream
// the body to the client as it is written. The dynamic type is *Response.
type ResponseWriter interface {
	// Header returns the response headers.
	Header() Header
	// Trailer returns the response trailers (needs FeatureTrailers).
	Trailer() Header
	// WriteHeader sets the status code (default 200).
	WriteHeader(statusCode int)
	// Write appends p to the response body.
	Write(p []byte) (int, error)
	// WriteString appends s to the response body without copying it.
	WriteString(s string) (int, error)
}

// Response is the ResponseWriter of a handler and, in a response hook,
// next's response, which it can read (StatusCode, Header, Body) and rewrite.
// In a response hook the first Write replaces next's body.
type Response struct {
	wrote bool
	body  Body
}

var _ ResponseWriter = (*Response)(nil)

func (w *Response) reset() {
	*w = Response{body: Body{kind: abi.BodyKindResponse}}
}

// Header returns the response headers.
func (w *Response) Header() Header { return Header{kind: abi.HeaderKindResponse} }

// Trailer returns the response trailers. Needs FeatureTrailers.
func (w *Response) Trailer() Header { return Header{kind: abi.HeaderKindResponseTrailers} }

// WriteHeader sets the status code.
func (w *Response) WriteHeader(statusCode int) { hostSetStatusCode(uint32(statusCode)) }

// StatusCode returns the status code: the one set so far in a handler, or
// next's in a response hook.
func (w *Response) StatusCode() int { return int(hostGetStatusCode()) }

// Write appends p to the body (in a response hook, the first Write replaces
// next's body).
func (w *Response) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.wrote = true
	hostWriteBody(uint32(abi.BodyKindResponse), bytesPtr(p), uint32(len(p)))
	return len(p), nil
}

// WriteString appends s to the body.
func (w *Response) WriteString(s string) (int, error) {
	if len(s) == 0 {
		return 0, nil
	}
	w.wrote = true
	hostWriteBody(uint32(abi.BodyKindResponse), unsafe.Pointer(unsafe.StringData(s)), uint32(len(s)))
	return len(s), nil
}

// Body reads next's response body in a response hook (needs
// FeatureBufferResponse).
func (w *Response) Body() *Body { return &w.body }
