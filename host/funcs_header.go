package host

import (
	"context"
	"net/http"
	"net/textproto"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// headerView is one of the four header maps a header function addresses.
// Response trailers live in the response header map under
// http.TrailerPrefix, which is how net/http sends undeclared trailers.
type headerView struct {
	h      http.Header
	prefix string  // http.TrailerPrefix for response trailers
	host   *string // request Host, which net/http keeps out of the map
}

// headers selects the map for kind, enforcing the phase and feature rules
// when the call mutates it.
func (rq *request) headers(fn string, kind abi.HeaderKind, mutate bool) headerView {
	switch kind {
	case abi.HeaderKindRequest:
		if mutate {
			rq.beforeNext(fn)
		}
		return headerView{h: rq.r.Header, host: &rq.r.Host}
	case abi.HeaderKindResponse:
		if mutate {
			rq.responseWritable(fn)
		}
		return headerView{h: rq.w.Header()}
	case abi.HeaderKindRequestTrailers:
		rq.needTrailers(fn)
		if mutate {
			rq.beforeNext(fn)
			if rq.r.Trailer == nil {
				rq.r.Trailer = http.Header{}
			}
		}
		return headerView{h: rq.r.Trailer}
	case abi.HeaderKindResponseTrailers:
		rq.needTrailers(fn)
		if mutate {
			rq.responseWritable(fn)
		}
		return headerView{h: rq.w.Header(), prefix: http.TrailerPrefix}
	}
	fault("%s: unknown header kind %d", fn, kind)
	return headerView{}
}

func (rq *request) needTrailers(fn string) {
	if !rq.features.Has(abi.FeatureTrailers) {
		fault("%s: trailers need the trailers feature (enable_features(%d))", fn, abi.FeatureTrailers)
	}
}

// key maps a canonical header name to its key in the map.
func (v headerView) key(name string) string {
	if v.prefix == "" {
		return name
	}
	return v.prefix + name
}

func (v headerView) isHost(name string) bool {
	return v.host != nil && name == "Host"
}

// appendNames appends the lowercase names, NUL-terminated and sorted, and
// returns the buffer and the count.
func (v headerView) appendNames(dst []byte) ([]byte, uint32) {
	names := make([]string, 0, len(v.h)+1)
	for k := range v.h {
		switch {
		case v.prefix != "":
			if !strings.HasPrefix(k, v.prefix) {
				continue
			}
			k = k[len(v.prefix):]
		case strings.HasPrefix(k, http.TrailerPrefix):
			continue
		}
		names = append(names, strings.ToLower(k))
	}
	if v.host != nil && *v.host != "" {
		if _, dup := v.h["Host"]; !dup {
			names = append(names, "host")
		}
	}
	sort.Strings(names)
	return abi.AppendNULTerminated(dst, names...), uint32(len(names))
}

func (v headerView) values(name string) []string {
	if v.isHost(name) && *v.host != "" {
		return []string{*v.host}
	}
	return v.h[v.key(name)]
}

func (v headerView) set(name, value string) {
	if v.isHost(name) {
		*v.host = value
		return
	}
	v.h[v.key(name)] = []string{value}
}

func (v headerView) add(name, value string) {
	if v.isHost(name) {
		*v.host = value
		return
	}
	k := v.key(name)
	v.h[k] = append(v.h[k], value)
}

func (v headerView) remove(name string) {
	if v.isHost(name) {
		*v.host = ""
	}
	if v.h != nil {
		delete(v.h, v.key(name))
	}
}

// maxCanonCache bounds the per-instance cache of canonical header names.
const maxCanonCache = 256

// headerName reads and validates a header name argument and returns its
// canonical form. Instances serve one request at a time, so a plain map
// caches the canonical names a guest uses without allocating per call.
func (rq *request) headerName(mod api.Module, fn string, ptr, n uint32) string {
	b := readMem(mod, fn, ptr, n)
	if name, ok := rq.canon[string(b)]; ok {
		return name
	}
	if len(b) == 0 || !validToken(b) {
		fault("%s: %q is not a valid header name", fn, b)
	}
	name := textproto.CanonicalMIMEHeaderKey(string(b))
	if rq.canon == nil {
		rq.canon = make(map[string]string)
	}
	if len(rq.canon) < maxCanonCache {
		rq.canon[string(b)] = name
	}
	return name
}

// headerValue reads a header value, refusing bytes that would let a guest
// inject headers or split the response. Short values are kept (bounded,
// like names) so a guest that sets the same content-type on every request
// does not allocate it every time.
func (rq *request) headerValue(mod api.Module, fn string, ptr, n uint32) string {
	b := readMem(mod, fn, ptr, n)
	if v, ok := rq.values[string(b)]; ok {
		return v
	}
	for _, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			fault("%s: header value contains CR, LF or NUL", fn)
		}
	}
	v := string(b)
	if len(v) <= maxCachedValue && len(rq.values) < maxCanonCache {
		if rq.values == nil {
			rq.values = make(map[string]string)
		}
		rq.values[v] = v
	}
	return v
}

// maxCachedValue is the longest header value headerValue keeps.
const maxCachedValue = 64

// get_header_names(kind, buf, buf_limit) -> count<<32|len
func (p *Plugin) getHeaderNames(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncGetHeaderNames
	rq := requestOf(ctx, fn)
	v := rq.headers(fn, abi.HeaderKind(uint32(stack[0])), false)
	var count uint32
	rq.scratch, count = v.appendNames(rq.scratch[:0])
	n := writeResult(mod, fn, uint32(stack[1]), uint32(stack[2]), rq.scratch)
	stack[0] = uint64(abi.NewCountLen(count, n))
}

// get_header_values(kind, name, name_len, buf, buf_limit) -> count<<32|len
func (p *Plugin) getHeaderValues(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncGetHeaderValues
	rq := requestOf(ctx, fn)
	v := rq.headers(fn, abi.HeaderKind(uint32(stack[0])), false)
	name := rq.headerName(mod, fn, uint32(stack[1]), uint32(stack[2]))
	vals := v.values(name)
	rq.scratch = abi.AppendNULTerminated(rq.scratch[:0], vals...)
	n := writeResult(mod, fn, uint32(stack[3]), uint32(stack[4]), rq.scratch)
	stack[0] = uint64(abi.NewCountLen(uint32(len(vals)), n))
}

// set_header_value(kind, name, name_len, value, value_len)
func (p *Plugin) setHeaderValue(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncSetHeaderValue
	rq := requestOf(ctx, fn)
	v := rq.headers(fn, abi.HeaderKind(uint32(stack[0])), true)
	v.set(rq.headerName(mod, fn, uint32(stack[1]), uint32(stack[2])), rq.headerValue(mod, fn, uint32(stack[3]), uint32(stack[4])))
}

// add_header_value(kind, name, name_len, value, value_len)
func (p *Plugin) addHeaderValue(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncAddHeaderValue
	rq := requestOf(ctx, fn)
	v := rq.headers(fn, abi.HeaderKind(uint32(stack[0])), true)
	v.add(rq.headerName(mod, fn, uint32(stack[1]), uint32(stack[2])), rq.headerValue(mod, fn, uint32(stack[3]), uint32(stack[4])))
}

// remove_header(kind, name, name_len)
func (p *Plugin) removeHeader(ctx context.Context, mod api.Module, stack []uint64) {
	const fn = abi.FuncRemoveHeader
	rq := requestOf(ctx, fn)
	v := rq.headers(fn, abi.HeaderKind(uint32(stack[0])), true)
	v.remove(rq.headerName(mod, fn, uint32(stack[1]), uint32(stack[2])))
}
