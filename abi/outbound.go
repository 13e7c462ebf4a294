package abi

// Outbound HTTP: host functions in module ExtModule, named OutboundPrefix +
// …, with which a guest makes HTTP requests of its own while it serves one.
// Granted by the operator with [outbound] allow (a list of targets); with
// nothing granted the functions still link, and every call fails with
// StatusNotGranted, so a plugin may use outbound HTTP conditionally.
//
// A call goes through these steps, each a host function:
//
//	h := outbound_open("GET", "https://api.example.com/v1/x")   // StatusLen: handle in len
//	outbound_add_header(h, "accept", "application/json")        // Status
//	outbound_write_body(h, chunk)                               // Status; streamed, repeatable
//	st := outbound_send(h)                                      // StatusLen: HTTP status in len
//	outbound_get_header_names(h, buf, limit)                    // StatusLen: NUL-terminated names
//	outbound_get_header_values(h, "content-type", buf, limit)   // StatusLen: NUL-terminated values
//	outbound_read_body(h, buf, limit)                           // StatusEOFLen, repeat until eof
//	outbound_close(h)                                           // Status
//
// Handles are small positive numbers, valid only within the request that
// opened them: every handle still open when the request ends is closed by
// the host. At most OutboundMaxHandles are open at once per request (a
// closed handle's slot is reused); one more open fails with
// StatusTooLarge.
//
// The target is checked against [outbound] allow at open (scheme, host,
// port), again at every redirect hop, and on the address each connection
// actually goes to. A refused target is StatusDenied, and last_error names
// the URL and outbound.allow. The guest cannot choose the virtual host: a
// Host header it adds is ignored (the URL's host is sent).
//
// Every call of a request ends by that request's deadline and by
// outbound.timeout, whichever comes first. outbound.timeout passing is
// StatusTimeout. The request's own deadline passing ends the request as any
// guest work past its deadline does: the client gets 504. A response body
// over outbound.max_response_body is StatusTooLarge from the read that
// crosses it (the bytes before it were delivered).
//
// Statuses (ext_status.go) every outbound function may return: StatusOK,
// StatusInvalid (unknown or closed handle, a call out of order, a bad
// method, URL or header), StatusNotGranted (nothing granted). Each function
// lists the others.

// OutboundMaxHandles bounds the handles a request holds open at once.
const OutboundMaxHandles = 8

// FuncOutboundOpen is
// `wasmcluster.outbound_open(method i32, method_len i32, url i32, url_len i32) -> StatusLen`.
//
// It starts a request: method is an HTTP method token ("GET", "POST", …),
// url an absolute http or https URL. On success the result's Len is the
// handle (never 0). Nothing is sent yet. Statuses: StatusDenied (the
// target is not in outbound.allow), StatusTooLarge (OutboundMaxHandles
// already open).
//
//	outbound_open("GET", "http://127.0.0.1:3000/data") == 1            // handle 1
//	outbound_open("GET", "http://10.9.9.9/")           == 7<<32        // StatusDenied
const FuncOutboundOpen = OutboundPrefix + "open"

// FuncOutboundAddHeader is
// `wasmcluster.outbound_add_header(h i32, name i32, name_len i32, value i32, value_len i32) -> Status`.
//
// It adds a header value to the request before it is sent (after its first
// write_body or send, StatusInvalid). A name that is not a token or a value
// with CR, LF or NUL is StatusInvalid. "Host" is accepted and ignored: the
// URL decides the virtual host. Hop-by-hop headers are the transport's.
const FuncOutboundAddHeader = OutboundPrefix + "add_header"

// FuncOutboundWriteBody is
// `wasmcluster.outbound_write_body(h i32, buf i32, buf_len i32) -> Status`.
//
// It sends buf as the next part of the request body. The first call
// starts the request (headers go out; the body is sent chunked), and each
// call returns once the transport has taken buf, so a large body is
// streamed, never held whole. After send, StatusInvalid. Statuses:
// StatusDenied, StatusUnavailable (the connection failed), StatusTimeout.
const FuncOutboundWriteBody = OutboundPrefix + "write_body"

// FuncOutboundSend is `wasmcluster.outbound_send(h i32) -> StatusLen`.
//
// It ends the request body (or sends a request without one) and waits for
// the response's status and headers. On success Len is the HTTP status
// code (100..599; redirects were followed, see above). Statuses:
// StatusDenied (the target, a redirect hop or the resolved address is
// refused; last_error names it), StatusUnavailable (connect or protocol
// failure, too many redirects), StatusTimeout.
//
//	outbound_send(1) == 200                  // 200 OK
//	outbound_send(1) == 7<<32                // denied
const FuncOutboundSend = OutboundPrefix + "send"

// FuncOutboundGetHeaderNames is
// `wasmcluster.outbound_get_header_names(h i32, buf i32, buf_limit i32) -> StatusLen`.
//
// After send, it writes the response's header names, lowercase, sorted,
// each NUL-terminated (as get_header_names), under the buffer rule, and
// returns their total length. Before send, StatusInvalid.
//
//	"content-length\x00content-type\x00" -> 28
const FuncOutboundGetHeaderNames = OutboundPrefix + "get_header_names"

// FuncOutboundGetHeaderValues is
// `wasmcluster.outbound_get_header_values(h i32, name i32, name_len i32, buf i32, buf_limit i32) -> StatusLen`.
//
// After send, it writes the response's values of header name (any case),
// each NUL-terminated, under the buffer rule; an absent header is length 0.
const FuncOutboundGetHeaderValues = OutboundPrefix + "get_header_values"

// FuncOutboundReadBody is
// `wasmcluster.outbound_read_body(h i32, buf i32, buf_limit i32) -> StatusEOFLen`.
//
// After send, it reads the next part of the response body into buf (at
// most buf_limit bytes; it waits for at least one byte unless the body is
// over) and returns how many it wrote and whether the body is over.
// Statuses: StatusTooLarge (over outbound.max_response_body),
// StatusUnavailable (the connection broke), StatusTimeout.
const FuncOutboundReadBody = OutboundPrefix + "read_body"

// FuncOutboundClose is `wasmcluster.outbound_close(h i32) -> Status`.
//
// It ends the call: an unread response body is discarded, an unsent
// request is dropped, and the handle is free again. StatusInvalid for an
// unknown handle.
const FuncOutboundClose = OutboundPrefix + "close"

// StatusEOFLen is the result of outbound_read_body: a status, an end flag
// and a length.
//
//	bits 63..32  status  a Status; 0 on success
//	bit  31      eof     1 when the body is over (after these bytes)
//	bits 30..0   len     bytes written to the buffer by this call (may be 0)
//
// len is below 2^31, as a guest buffer is. Process len bytes even with eof
// set: 1<<31|5 is "5 bytes, then done".
//
//	NewStatusEOFLen(StatusOK, false, 5)      == 5
//	NewStatusEOFLen(StatusOK, true, 5)       == 1<<31 | 5
//	NewStatusEOFLen(StatusTooLarge, false, 0) == 3<<32
type StatusEOFLen uint64

const eofBit = 1 << 31

// NewStatusEOFLen packs a status, eof and a length (length must be < 2^31;
// higher bits are dropped).
func NewStatusEOFLen(s Status, eof bool, length uint32) StatusEOFLen {
	v := StatusEOFLen(s)<<32 | StatusEOFLen(length&^eofBit)
	if eof {
		v |= eofBit
	}
	return v
}

// Status is the call's outcome (high 32 bits).
func (v StatusEOFLen) Status() Status { return Status(v >> 32) }

// EOF reports whether the body is over (bit 31).
func (v StatusEOFLen) EOF() bool { return v&eofBit != 0 }

// Len is the number of bytes written (bits 30..0).
func (v StatusEOFLen) Len() uint32 { return uint32(v) &^ eofBit }
