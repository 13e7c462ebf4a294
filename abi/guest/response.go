package guest

import (
	"unsafe"

	"github.com/wasmcluster/wasmcluster/abi"
)

// ResponseWriter builds the response, like net/http's: set headers and the
// status before the first Write, then write the body, which the host may
// stream to the client as it is written. In a response hook it is next's
// response, which it can read (StatusCode, Header, Body) and rewrite; there
// the first Write replaces next's body.
//
// It is a zero-size handle (all state lives in the host), passed by value;
// its methods are direct calls the compiler can inline, which an interface
// would not allow on the per-request path. It implements io.Writer and
// io.StringWriter.
type ResponseWriter struct{}

// Header returns the response headers.
func (ResponseWriter) Header() Header { return Header{kind: abi.HeaderKindResponse} }

// Trailer returns the response trailers. Needs FeatureTrailers.
func (ResponseWriter) Trailer() Header { return Header{kind: abi.HeaderKindResponseTrailers} }

// WriteHeader sets the status code (default 200).
func (ResponseWriter) WriteHeader(statusCode int) { hostSetStatusCode(uint32(statusCode)) }

// StatusCode returns the status code: the one set so far in a handler, or
// next's in a response hook.
func (ResponseWriter) StatusCode() int { return int(hostGetStatusCode()) }

// Write appends p to the body.
func (ResponseWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		hostWriteBody(uint32(abi.BodyKindResponse), bytesPtr(p), uint32(len(p)))
	}
	return len(p), nil
}

// WriteString appends s to the body without copying it.
func (ResponseWriter) WriteString(s string) (int, error) {
	if len(s) > 0 {
		hostWriteBody(uint32(abi.BodyKindResponse), unsafe.Pointer(unsafe.StringData(s)), uint32(len(s)))
	}
	return len(s), nil
}

// Body reads next's response body in a response hook (needs
// FeatureBufferResponse).
func (ResponseWriter) Body() *Body { return &respBody }

// respBody is the reader state of next's response body, reset per phase.
var respBody Body
