package host

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// enable_features(features) -> enabled. Outside a request it sets the
// instance's default; inside, that request only.
func (p *Plugin) enableFeatures(ctx context.Context, _ api.Module, stack []uint64) {
	want := abi.Features(uint32(stack[0])) & abi.FeaturesAll
	inst := instanceFrom(ctx)
	switch {
	case inst == nil:
		stack[0] = uint64(want)
	case inst.rq.phase == phaseIdle:
		inst.features |= want
		stack[0] = uint64(inst.features)
	default:
		inst.rq.features |= want
		stack[0] = uint64(inst.rq.features)
	}
}

// get_config(buf, buf_limit) -> len
func (p *Plugin) getConfig(_ context.Context, mod api.Module, stack []uint64) {
	stack[0] = uint64(writeResult(mod, abi.FuncGetConfig, uint32(stack[0]), uint32(stack[1]), p.cfg.GuestConfig))
}

func slogLevel(l abi.LogLevel) slog.Level {
	switch {
	case l <= abi.LogLevelDebug:
		return slog.LevelDebug
	case l == abi.LogLevelInfo:
		return slog.LevelInfo
	case l == abi.LogLevelWarn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// log_enabled(level) -> 0|1
func (p *Plugin) logEnabled(ctx context.Context, _ api.Module, stack []uint64) {
	level := abi.LogLevel(int32(uint32(stack[0])))
	stack[0] = 0
	if level < abi.LogLevelNone && p.log.Enabled(ctx, slogLevel(level)) {
		stack[0] = 1
	}
}

// log(level, message, message_len)
func (p *Plugin) logMessage(ctx context.Context, mod api.Module, stack []uint64) {
	level := abi.LogLevel(int32(uint32(stack[0])))
	msg := readMem(mod, abi.FuncLog, uint32(stack[1]), uint32(stack[2]))
	if level >= abi.LogLevelNone || !p.log.Enabled(ctx, slogLevel(level)) {
		return
	}
	p.log.LogAttrs(ctx, slogLevel(level), string(msg), slog.String("source", "guest"))
}

// get_method(buf, buf_limit) -> len
func (p *Plugin) getMethod(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncGetMethod)
	stack[0] = uint64(writeStringResult(mod, abi.FuncGetMethod, uint32(stack[0]), uint32(stack[1]), rq.r.Method))
}

// set_method(method, method_len)
func (p *Plugin) setMethod(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncSetMethod)
	rq.beforeNext(abi.FuncSetMethod)
	m := readMem(mod, abi.FuncSetMethod, uint32(stack[0]), uint32(stack[1]))
	if len(m) == 0 || !validToken(m) {
		fault("%s: %q is not a valid HTTP method", abi.FuncSetMethod, m)
	}
	rq.r.Method = string(m)
}

// get_uri(buf, buf_limit) -> len
func (p *Plugin) getURI(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncGetURI)
	stack[0] = uint64(writeStringResult(mod, abi.FuncGetURI, uint32(stack[0]), uint32(stack[1]), rq.r.URL.RequestURI()))
}

// set_uri(uri, uri_len)
func (p *Plugin) setURI(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncSetURI)
	rq.beforeNext(abi.FuncSetURI)
	raw := string(readMem(mod, abi.FuncSetURI, uint32(stack[0]), uint32(stack[1])))
	if raw == "" {
		raw = "/"
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		fault("%s: %q is not a valid request URI: %v", abi.FuncSetURI, raw, err)
	}
	rq.r.URL.Path, rq.r.URL.RawPath, rq.r.URL.RawQuery = u.Path, u.RawPath, u.RawQuery
	rq.r.RequestURI = u.RequestURI()
}

// get_protocol_version(buf, buf_limit) -> len
func (p *Plugin) getProtocolVersion(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncGetProtocolVersion)
	proto := rq.r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	stack[0] = uint64(writeStringResult(mod, abi.FuncGetProtocolVersion, uint32(stack[0]), uint32(stack[1]), proto))
}

// get_source_addr(buf, buf_limit) -> len
func (p *Plugin) getSourceAddr(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncGetSourceAddr)
	stack[0] = uint64(writeStringResult(mod, abi.FuncGetSourceAddr, uint32(stack[0]), uint32(stack[1]), rq.r.RemoteAddr))
}

// get_status_code() -> status
func (p *Plugin) getStatusCode(ctx context.Context, _ api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncGetStatusCode)
	status := rq.status
	if rq.phase == phasePassthrough {
		status = rq.sent.status
	}
	if status == 0 {
		status = 200
	}
	stack[0] = uint64(status)
}

// set_status_code(status)
func (p *Plugin) setStatusCode(ctx context.Context, _ api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncSetStatusCode)
	rq.responseWritable(abi.FuncSetStatusCode)
	status := int(uint32(stack[0]))
	// A final status is 200..599: 1xx are interim responses (101 would make
	// net/http announce a protocol switch) and 600+ is not HTTP.
	if status < 200 || status > 599 {
		fault("%s: %d is not a valid final HTTP status (want 200..599)", abi.FuncSetStatusCode, status)
	}
	if rq.phase == phaseStreaming {
		p.log.Warn("set_status_code ignored: the response was already sent", slog.Int("status", status))
		return
	}
	rq.status = status
}

// read_body(kind, buf, buf_limit) -> eof<<32|len
func (p *Plugin) readBody(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncReadBody)
	kind, buf, limit := abi.BodyKind(uint32(stack[0])), uint32(stack[1]), uint32(stack[2])
	dst := readMem(mod, abi.FuncReadBody, buf, limit)
	switch kind {
	case abi.BodyKindRequest:
		if rq.phase.afterNext() {
			stack[0] = uint64(abi.NewEOFLen(true, 0))
			return
		}
		n, eof := rq.readRequestBody(dst)
		stack[0] = uint64(abi.NewEOFLen(eof, uint32(n)))
	case abi.BodyKindResponse:
		rq.responseWritable(abi.FuncReadBody)
		n := copy(dst, rq.respBody[rq.respReadOff:])
		rq.respReadOff += n
		stack[0] = uint64(abi.NewEOFLen(rq.respReadOff == len(rq.respBody), uint32(n)))
	default:
		fault("%s: unknown body kind %d", abi.FuncReadBody, kind)
	}
}

// write_body(kind, body, body_len). The first call in a phase replaces the
// body; later calls append.
func (p *Plugin) writeBody(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncWriteBody)
	kind := abi.BodyKind(uint32(stack[0]))
	b := readMem(mod, abi.FuncWriteBody, uint32(stack[1]), uint32(stack[2]))
	switch kind {
	case abi.BodyKindRequest:
		rq.beforeNext(abi.FuncWriteBody)
		if !rq.newBodySet {
			rq.newBody, rq.newBodySet = rq.newBody[:0], true
		}
		rq.newBody = append(rq.newBody, b...)
	case abi.BodyKindResponse:
		rq.responseWritable(abi.FuncWriteBody)
		rq.writeResponseBody(b)
	default:
		fault("%s: unknown body kind %d", abi.FuncWriteBody, kind)
	}
}

// validToken reports whether b is an RFC 9110 token (methods, header names).
func validToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '<' || c == '>' || c == '@' ||
			c == ',' || c == ';' || c == ':' || c == '\\' || c == '"' || c == '/' || c == '[' ||
			c == ']' || c == '?' || c == '=' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}
