// The http-wasm handler ABI for AssemblyScript guests: the http_handler
// imports (abi/abi.go), the packed results (abi/packed.go), the kinds and
// feature bits, and a few helpers that turn ABI calls into strings. Not a
// framework: a guest exports handle_request and handle_response itself.
//
// Strings cross the ABI as UTF-8; AssemblyScript strings are UTF-16, so the
// helpers convert. Results follow the ABI's buffer rule: a host function
// writes only when the result fits buf_limit and always returns its length,
// so a helper retries once with a buffer of that length.

// Header kinds (the kind argument of the header functions).
export const REQUEST: u32 = 0;
export const RESPONSE: u32 = 1;
export const REQUEST_TRAILERS: u32 = 2; // needs FEATURE_TRAILERS
export const RESPONSE_TRAILERS: u32 = 3; // needs FEATURE_TRAILERS

// Body kinds (read_body, write_body) use REQUEST and RESPONSE.

// Feature bits for enable_features.
export const FEATURE_BUFFER_REQUEST: u32 = 1;
export const FEATURE_BUFFER_RESPONSE: u32 = 2;
export const FEATURE_TRAILERS: u32 = 4;

// Log levels for log and log_enabled.
export const LOG_DEBUG: i32 = -1;
export const LOG_INFO: i32 = 0;
export const LOG_WARN: i32 = 1;
export const LOG_ERROR: i32 = 2;
export const LOG_NONE: i32 = 3;

// The 19 host functions of module http_handler. Pointers are offsets in
// this module's memory.
@external("http_handler", "enable_features")
export declare function enable_features(features: u32): u32;
@external("http_handler", "get_config")
export declare function get_config(buf: usize, buf_limit: u32): u32;
@external("http_handler", "log_enabled")
export declare function log_enabled(level: i32): u32;
@external("http_handler", "log")
export declare function log(level: i32, message: usize, message_len: u32): void;
@external("http_handler", "get_method")
export declare function get_method(buf: usize, buf_limit: u32): u32;
@external("http_handler", "set_method")
export declare function set_method(method: usize, method_len: u32): void;
@external("http_handler", "get_uri")
export declare function get_uri(buf: usize, buf_limit: u32): u32;
@external("http_handler", "set_uri")
export declare function set_uri(uri: usize, uri_len: u32): void;
@external("http_handler", "get_protocol_version")
export declare function get_protocol_version(buf: usize, buf_limit: u32): u32;
@external("http_handler", "get_header_names")
export declare function get_header_names(kind: u32, buf: usize, buf_limit: u32): u64;
@external("http_handler", "get_header_values")
export declare function get_header_values(kind: u32, name: usize, name_len: u32, buf: usize, buf_limit: u32): u64;
@external("http_handler", "set_header_value")
export declare function set_header_value(kind: u32, name: usize, name_len: u32, value: usize, value_len: u32): void;
@external("http_handler", "add_header_value")
export declare function add_header_value(kind: u32, name: usize, name_len: u32, value: usize, value_len: u32): void;
@external("http_handler", "remove_header")
export declare function remove_header(kind: u32, name: usize, name_len: u32): void;
@external("http_handler", "read_body")
export declare function read_body(kind: u32, buf: usize, buf_limit: u32): u64;
@external("http_handler", "write_body")
export declare function write_body(kind: u32, body: usize, body_len: u32): void;
@external("http_handler", "get_status_code")
export declare function get_status_code(): u32;
@external("http_handler", "set_status_code")
export declare function set_status_code(status_code: u32): void;
@external("http_handler", "get_source_addr")
export declare function get_source_addr(buf: usize, buf_limit: u32): u32;

// Packed results (abi/packed.go).

// ctxNext is handle_request's result: ctx<<32 | next. Only the low 32 bits
// decide next; handle_response(ctx, ...) runs only when next is true.
export function ctxNext(ctx: u32, next: bool): u64 {
  return (<u64>ctx << 32) | (next ? 1 : 0);
}

// CountLen (get_header_names, get_header_values): count<<32 | len, len
// counting the NUL terminator of each string.
export function countOf(countLen: u64): u32 { return <u32>(countLen >> 32); }
export function lenOf(packed: u64): u32 { return <u32>packed; }

// EOFLen (read_body): eof<<32 | len. Use len bytes even when eof is set.
export function isEOF(eofLen: u64): bool { return (eofLen >> 32) != 0; }

// Helpers.

function utf8(s: string): ArrayBuffer { return String.UTF8.encode(s); }

// callString runs a (buf, buf_limit) -> len function under the buffer rule.
function callString(fn: (buf: usize, limit: u32) => u32): string {
  let buf = new ArrayBuffer(256);
  let n = fn(changetype<usize>(buf), <u32>buf.byteLength);
  if (n > <u32>buf.byteLength) {
    buf = new ArrayBuffer(<i32>n);
    n = fn(changetype<usize>(buf), n);
  }
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), n);
}

export function method(): string {
  return callString((buf: usize, limit: u32): u32 => get_method(buf, limit));
}

export function uri(): string {
  return callString((buf: usize, limit: u32): u32 => get_uri(buf, limit));
}

export function config(): string {
  return callString((buf: usize, limit: u32): u32 => get_config(buf, limit));
}

// headerValues returns every value of header name of kind. Pass name in
// lowercase, as the ABI names headers (toLowerCase would link Unicode case
// tables into every guest).
export function headerValues(kind: u32, name: string): string[] {
  const n = utf8(name);
  let buf = new ArrayBuffer(256);
  let cl = get_header_values(kind, changetype<usize>(n), n.byteLength, changetype<usize>(buf), buf.byteLength);
  if (lenOf(cl) > <u32>buf.byteLength) {
    buf = new ArrayBuffer(<i32>lenOf(cl));
    cl = get_header_values(kind, changetype<usize>(n), n.byteLength, changetype<usize>(buf), buf.byteLength);
  }
  const out = new Array<string>(0);
  let start: u32 = 0;
  const base = changetype<usize>(buf);
  for (let i: u32 = 0; i < lenOf(cl); i++) {
    if (load<u8>(base + i) == 0) {
      out.push(String.UTF8.decodeUnsafe(base + start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// header returns the first value of a request header, or "" when absent.
export function header(name: string): string {
  const v = headerValues(REQUEST, name);
  return v.length > 0 ? v[0] : "";
}

export function setHeader(kind: u32, name: string, value: string): void {
  const n = utf8(name), v = utf8(value);
  set_header_value(kind, changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength);
}

// writeBody writes to the request or response body: the first call in a
// request replaces it, later ones append.
export function writeBody(kind: u32, body: string): void {
  const b = utf8(body);
  write_body(kind, changetype<usize>(b), b.byteLength);
}

// respond answers the request with status, a text/plain body, and returns
// handle_request's result for "answered, no next".
export function respond(status: u32, body: string): u64 {
  set_status_code(status);
  setHeader(RESPONSE, "content-type", "text/plain; charset=utf-8");
  writeBody(RESPONSE, body);
  return ctxNext(0, false);
}

export function logAt(level: i32, message: string): void {
  const m = utf8(message);
  log(level, changetype<usize>(m), m.byteLength);
}
