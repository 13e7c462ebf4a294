package guest

import (
	"unsafe"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Header is a view of one of the host's header maps (request or response
// headers, or trailers). Every method is a host call; nothing is copied
// until asked for. Names are case-insensitive; the host reports them in
// lower case.
type Header struct{ kind abi.HeaderKind }

// readValues calls get_header_values(kind, name) into scratch.
func (h Header) readValues(name string) (count uint32, b []byte) {
	for {
		cl := abi.CountLen(hostGetHeaderValues(uint32(h.kind), name, unsafe.Pointer(&scratch[0]), uint32(len(scratch))))
		if int(cl.Len()) <= len(scratch) {
			return cl.Count(), scratch[:cl.Len()]
		}
		grow(int(cl.Len()))
	}
}

// Get returns the first value of name, or "" if it has none.
func (h Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup returns the first value of name and whether name is present.
func (h Header) Lookup(name string) (string, bool) {
	n, b := h.readValues(name)
	if n == 0 {
		return "", false
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), true
		}
	}
	return string(b), true
}

// Values returns every value of name, in order; nil if it has none.
func (h Header) Values(name string) []string {
	n, b := h.readValues(name)
	if n == 0 {
		return nil
	}
	return splitNUL(make([]string, 0, n), b)
}

// Names returns the header names (lower case), each once.
func (h Header) Names() []string {
	for {
		cl := abi.CountLen(hostGetHeaderNames(uint32(h.kind), unsafe.Pointer(&scratch[0]), uint32(len(scratch))))
		if int(cl.Len()) <= len(scratch) {
			if cl.Count() == 0 {
				return nil
			}
			return splitNUL(make([]string, 0, cl.Count()), scratch[:cl.Len()])
		}
		grow(int(cl.Len()))
	}
}

// AppendNames appends the header names to dst and returns it. The names
// share one allocation, so reading every header costs one allocation for
// the names plus one per AppendValues call.
func (h Header) AppendNames(dst []string) []string {
	for {
		cl := abi.CountLen(hostGetHeaderNames(uint32(h.kind), unsafe.Pointer(&scratch[0]), uint32(len(scratch))))
		if int(cl.Len()) <= len(scratch) {
			return splitNULShared(dst, scratch[:cl.Len()])
		}
		grow(int(cl.Len()))
	}
}

// AppendValues appends every value of name to dst and returns it; the
// values share one allocation.
func (h Header) AppendValues(dst []string, name string) []string {
	n, b := h.readValues(name)
	if n == 0 {
		return dst
	}
	return splitNULShared(dst, b)
}

// Set replaces every value of name with value.
func (h Header) Set(name, value string) { hostSetHeaderValue(uint32(h.kind), name, value) }

// Add appends value to the values of name.
func (h Header) Add(name, value string) { hostAddHeaderValue(uint32(h.kind), name, value) }

// Del removes name and all its values.
func (h Header) Del(name string) { hostRemoveHeader(uint32(h.kind), name) }

// splitNUL appends the NUL-terminated strings of b to dst.
func splitNUL(dst []string, b []byte) []string {
	start := 0
	for i, c := range b {
		if c == 0 {
			dst = append(dst, string(b[start:i]))
			start = i + 1
		}
	}
	if start < len(b) {
		dst = append(dst, string(b[start:]))
	}
	return dst
}

// splitNULShared is splitNUL with one string allocation: the parts are
// substrings of a single copy of b.
func splitNULShared(dst []string, b []byte) []string {
	if len(b) == 0 {
		return dst
	}
	all := string(b)
	start := 0
	for i := 0; i < len(all); i++ {
		if all[i] == 0 {
			dst = append(dst, all[start:i])
			start = i + 1
		}
	}
	if start < len(all) {
		dst = append(dst, all[start:])
	}
	return dst
}
