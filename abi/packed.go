package abi

// CtxNext is the result of handle_request.
//
//	bits 63..32  ctx   opaque guest value handed back to handle_response
//	bits 31..0   next  1 = call the next handler, 0 = the guest answered
//
// Only the low 32 bits decide next: 16<<32|16 does not proceed.
//
//	NewCtxNext(0, false) == 0            // guest wrote the response
//	NewCtxNext(0, true)  == 1            // proceed, no context
//	NewCtxNext(16, true) == 16<<32 | 1   // proceed; handle_response(16, ...)
type CtxNext uint64

// NewCtxNext packs ctx and next.
func NewCtxNext(ctx uint32, next bool) CtxNext {
	v := CtxNext(ctx) << 32
	if next {
		v |= 1
	}
	return v
}

// Ctx is the guest's request context (high 32 bits).
func (c CtxNext) Ctx() uint32 { return uint32(c >> 32) }

// Next reports whether the host calls the next handler: low 32 bits == 1.
func (c CtxNext) Next() bool { return uint32(c) == 1 }

// CountLen is the result of get_header_names and get_header_values: a
// sequence of NUL-terminated strings.
//
//	bits 63..32  count  number of strings
//	bits 31..0   len    total bytes, NUL terminators included
//
//	""                              -> 0
//	"accept\x00"                    -> 1<<32 | 7
//	"content-type\x00host\x00"      -> 2<<32 | 18
type CountLen uint64

// NewCountLen packs count and length.
func NewCountLen(count, length uint32) CountLen {
	return CountLen(count)<<32 | CountLen(length)
}

// Count is the number of strings.
func (c CountLen) Count() uint32 { return uint32(c >> 32) }

// Len is the total length in bytes including NUL terminators.
func (c CountLen) Len() uint32 { return uint32(c) }

// EOFLen is the result of read_body.
//
//	bits 63..32  eof  1 when the body is exhausted
//	bits 31..0   len  bytes written to the buffer by this call (may be 0)
//
// Process len bytes even when eof is set: 1<<32|5 means "5 bytes, then done".
type EOFLen uint64

// NewEOFLen packs eof and length.
func NewEOFLen(eof bool, length uint32) EOFLen {
	v := EOFLen(length)
	if eof {
		v |= 1 << 32
	}
	return v
}

// EOF reports whether the body is exhausted.
func (e EOFLen) EOF() bool { return e>>32 != 0 }

// Len is the number of bytes read by this call.
func (e EOFLen) Len() uint32 { return uint32(e) }

// AppendNULTerminated appends each string followed by a NUL byte, the
// encoding of multi-value results. It returns the extended buffer.
func AppendNULTerminated(dst []byte, values ...string) []byte {
	for _, v := range values {
		dst = append(dst, v...)
		dst = append(dst, 0)
	}
	return dst
}

// SplitNULTerminated splits a buffer of NUL-terminated strings. A final
// string without a terminator is returned as well.
func SplitNULTerminated(buf []byte) []string {
	var out []string
	start := 0
	for i, b := range buf {
		if b == 0 {
			out = append(out, string(buf[start:i]))
			start = i + 1
		}
	}
	if start < len(buf) {
		out = append(out, string(buf[start:]))
	}
	return out
}
