package guest

import "unsafe"

// scratch receives every variable-length host result. It is reused across
// calls and requests (one instance serves one request at a time) and grows
// to the largest result seen, so steady-state calls do not allocate.
var scratch = make([]byte, 2048)

// readHost calls a (buf, buf_limit) -> len host function, growing scratch
// and retrying when the result did not fit. The result aliases scratch.
func readHost(get func(buf unsafe.Pointer, limit uint32) uint32) []byte {
	for {
		n := get(unsafe.Pointer(&scratch[0]), uint32(len(scratch)))
		if int(n) <= len(scratch) {
			return scratch[:n]
		}
		grow(int(n))
	}
}

func grow(n int) { scratch = make([]byte, n+n/4) }

// bytesPtr returns a pointer to p's data, valid for a host call.
func bytesPtr(p []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(p)) }

// intern returns a constant string for common short values, so getters do
// not allocate on the hot path.
func intern(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	case "CONNECT":
		return "CONNECT"
	case "TRACE":
		return "TRACE"
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/2.0":
		return "HTTP/2.0"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "/":
		return "/"
	}
	return string(b)
}
