package guest

import (
	"github.com/wasmcluster/wasmcluster/abi"
)

// A Handler answers a request, or passes it on with r.Next.
type Handler interface {
	ServeHTTP(w ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeHTTP calls f(w, r).
func (f HandlerFunc) ServeHTTP(w ResponseWriter, r *Request) { f(w, r) }

// ResponseHandlerFunc inspects or rewrites the response of next. isError
// reports that next failed (the host already chose an error status).
type ResponseHandlerFunc func(w ResponseWriter, r *Request, isError bool)

var (
	handler     Handler
	handlerFn   func(ResponseWriter, *Request) // set by HandleFunc
	respHandler ResponseHandlerFunc

	// One instance serves one request at a time, so the request value is
	// reused: a request costs no allocation in the SDK itself.
	curReq Request
	seq    uint32 // request counter; doubles as ctx for handle_response
)

// Handle registers h as the plugin's request handler. Call it from an init
// function: with -buildmode=c-shared, main is never called. A later call
// replaces the handler. Without a handler every request goes to next.
func Handle(h Handler) { handler, handlerFn = h, nil }

// HandleFunc registers f as the plugin's request handler (see Handle).
func HandleFunc(f func(w ResponseWriter, r *Request)) { handler, handlerFn = HandlerFunc(f), f }

// HandleResponseFunc registers f to run after next answered a request that a
// handler passed on with r.Next (the handle_response export). r is the same
// request value the handler saw; its getters still work, its setters trap.
// Reading next's status, headers or body and rewriting them requires
// FeatureBufferResponse, enabled in init or by the handler for one request.
func HandleResponseFunc(f ResponseHandlerFunc) { respHandler = f }

// serveRequest runs the handler for one request and returns the packed
// ctx/next result of handle_request.
//
// A panic is not recovered: the Go runtime prints it with its stack to
// stderr (which the host logs) and exits, the host answers 500 and replaces
// the instance. That costs a new instance on a rare event, but no state a
// panic left half-updated survives, and the fast path stays free of the
// ~200 ns a deferred recover costs per request in wasm.
func serveRequest() abi.CtxNext {
	seq++
	if seq == 0 { // ctx 0 is fine for the ABI, but keep "no request" distinct
		seq = 1
	}
	curReq.reset(seq)
	respBody = Body{kind: abi.BodyKindResponse}
	switch {
	case handlerFn != nil:
		handlerFn(ResponseWriter{}, &curReq) // skips HandlerFunc.ServeHTTP's call level
	case handler != nil:
		handler.ServeHTTP(ResponseWriter{}, &curReq)
	default:
		return abi.NewCtxNext(seq, true)
	}
	if !curReq.next {
		// ctx 0 when not proceeding: some hosts (the http-wasm reference
		// host among them) leak state for a non-zero ctx without next.
		return 0
	}
	return abi.NewCtxNext(seq, true)
}

// wantsResponse reports whether handle_response has work for the request
// with ctx reqCtx: a response hook is registered (abi.ExportResponseWanted).
func wantsResponse(reqCtx uint32) bool {
	return respHandler != nil && reqCtx == curReq.seq
}

// serveResponse runs the response hook for the request with ctx reqCtx.
func serveResponse(reqCtx uint32, isError bool) {
	if !wantsResponse(reqCtx) {
		return
	}
	respBody = Body{kind: abi.BodyKindResponse}
	respHandler(ResponseWriter{}, &curReq, isError)
}

// Features is a set of optional host behaviours (see the abi package).
type Features = abi.Features

// Feature bits for EnableFeatures.
const (
	// FeatureBufferRequest lets next read the request body after the handler
	// read it.
	FeatureBufferRequest = abi.FeatureBufferRequest
	// FeatureBufferResponse captures next's response so a response hook can
	// read and rewrite it.
	FeatureBufferResponse = abi.FeatureBufferResponse
	// FeatureTrailers enables Request.Trailer and Response.Trailer.
	FeatureTrailers = abi.FeatureTrailers
)

// EnableFeatures asks the host for features and returns the set now
// enabled. Called from init it sets the default for every request; called
// from a handler it applies to the current request only.
func EnableFeatures(f Features) Features {
	return Features(hostEnableFeatures(uint32(f)))
}

var (
	config    []byte
	configSet bool
)

// Config returns the plugin configuration the operator gave the host
// (for example `wasmcluster serve --plugin-config`). It is read once and
// cached; do not modify the returned slice.
func Config() []byte {
	if !configSet {
		b := readHost(hostGetConfig)
		config = append([]byte(nil), b...)
		configSet = true
	}
	return config
}
