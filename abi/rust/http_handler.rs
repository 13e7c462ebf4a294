//! http_handler.rs: the http-wasm handler ABI for Rust guests of wasmcluster.
//!
//! One file, no crates, `core` only, so it works in a `#![no_std]` cdylib for
//! `wasm32-unknown-unknown` (about 0.7 KB per plugin) as well as with std on
//! `wasm32-wasi`. Include it as a module:
//!
//! ```ignore
//! #[path = "http_handler.rs"]
//! mod http_handler;
//! ```
//!
//! The Go definitions it mirrors are abi/abi.go and abi/packed.go; the public
//! ABI is https://github.com/http-wasm/http-wasm (content/http-handler-abi.md).
//! A guest built against it runs on any http-wasm host.
//!
//! Build with Debian's rustc (packages rustc, libstd-rust-dev-wasm32, lld).
//! Call /usr/bin/rustc by its path: a rustup toolchain earlier on PATH has no
//! wasm target.
//!
//! ```text
//! /usr/bin/rustc --target wasm32-unknown-unknown --crate-type cdylib \
//!     -C opt-level=s -C panic=abort -C strip=symbols -o plugin.wasm lib.rs
//! ```
//!
//! The guest exports `handle_request` (`#[no_mangle] pub extern "C" fn
//! handle_request() -> u64`) and, only when it calls next and works on the
//! response, `handle_response(req_ctx: u32, is_error: u32)`.
#![allow(dead_code)]

/// Header maps (the kind argument of the header functions).
pub const HEADER_REQUEST: u32 = 0;
pub const HEADER_RESPONSE: u32 = 1;
pub const HEADER_REQUEST_TRAILERS: u32 = 2; // needs FEATURE_TRAILERS
pub const HEADER_RESPONSE_TRAILERS: u32 = 3; // needs FEATURE_TRAILERS

/// Bodies (the kind argument of read_body and write_body).
pub const BODY_REQUEST: u32 = 0;
pub const BODY_RESPONSE: u32 = 1;

/// Feature bits for enable_features. Outside a request they set the
/// instance's default; inside handle_request they apply to that request.
pub const FEATURE_BUFFER_REQUEST: u32 = 1;
pub const FEATURE_BUFFER_RESPONSE: u32 = 2;
pub const FEATURE_TRAILERS: u32 = 4;

/// Levels of log and log_enabled.
pub const LOG_DEBUG: i32 = -1;
pub const LOG_INFO: i32 = 0;
pub const LOG_WARN: i32 = 1;
pub const LOG_ERROR: i32 = 2;
pub const LOG_NONE: i32 = 3;

/// The 19 host functions of module http_handler. Pointers are offsets in
/// this module's memory. Functions taking (buf, buf_limit) follow the buffer
/// rule: the host writes the result only if it fits and always returns its
/// full length, so a larger length means "call again with that much room".
pub mod raw {
    #[link(wasm_import_module = "http_handler")]
    extern "C" {
        pub fn enable_features(features: u32) -> u32;
        pub fn get_config(buf: *mut u8, buf_limit: u32) -> u32;
        pub fn log_enabled(level: i32) -> u32;
        pub fn log(level: i32, message: *const u8, message_len: u32);
        pub fn get_method(buf: *mut u8, buf_limit: u32) -> u32;
        pub fn set_method(method: *const u8, method_len: u32);
        pub fn get_uri(buf: *mut u8, buf_limit: u32) -> u32;
        pub fn set_uri(uri: *const u8, uri_len: u32);
        pub fn get_protocol_version(buf: *mut u8, buf_limit: u32) -> u32;
        /// -> count/len (see count, len): lowercase names, each NUL-terminated.
        pub fn get_header_names(kind: u32, buf: *mut u8, buf_limit: u32) -> u64;
        /// -> count/len: the values, each NUL-terminated.
        pub fn get_header_values(kind: u32, name: *const u8, name_len: u32, buf: *mut u8, buf_limit: u32) -> u64;
        pub fn set_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
        pub fn add_header_value(kind: u32, name: *const u8, name_len: u32, value: *const u8, value_len: u32);
        pub fn remove_header(kind: u32, name: *const u8, name_len: u32);
        /// -> eof/len (see eof, len); each call reads on from the last.
        pub fn read_body(kind: u32, buf: *mut u8, buf_limit: u32) -> u64;
        /// The first call in a request replaces the body, later ones append.
        pub fn write_body(kind: u32, body: *const u8, body_len: u32);
        pub fn get_status_code() -> u32;
        pub fn set_status_code(status_code: u32);
        pub fn get_source_addr(buf: *mut u8, buf_limit: u32) -> u32;
    }
}

/// Packed results (abi/packed.go). handle_request returns ctx_next(ctx,
/// next): next=false when the guest wrote the response, true to call the
/// next handler. Only the low 32 bits decide next.
#[inline]
pub fn ctx_next(ctx: u32, next: bool) -> u64 {
    (ctx as u64) << 32 | next as u64
}

/// The count half of a count/len result.
#[inline]
pub fn count(count_len: u64) -> u32 {
    (count_len >> 32) as u32
}

/// The len half of a count/len or eof/len result.
#[inline]
pub fn len(packed: u64) -> u32 {
    packed as u32
}

/// The eof half of an eof/len result.
#[inline]
pub fn eof(eof_len: u64) -> bool {
    eof_len >> 32 != 0
}

/// Why a helper returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No such header.
    Absent,
    /// The value does not fit in the buffer; the payload is the length
    /// needed (for headers, of all the header's values).
    TooLong(u32),
}

/// header copies the first value of header `name` (any case) of `kind` into
/// buf and returns it. All the header's values must fit, as the host writes
/// all or none.
pub fn header<'a>(kind: u32, name: &str, buf: &'a mut [u8]) -> Result<&'a [u8], Error> {
    let cl = unsafe { raw::get_header_values(kind, name.as_ptr(), name.len() as u32, buf.as_mut_ptr(), buf.len() as u32) };
    if count(cl) == 0 {
        return Err(Error::Absent);
    }
    let n = len(cl);
    if n as usize > buf.len() {
        return Err(Error::TooLong(n));
    }
    let all = &buf[..n as usize];
    let end = all.iter().position(|&c| c == 0).unwrap_or(all.len());
    Ok(&all[..end])
}

/// request_header is header for the request's headers.
pub fn request_header<'a>(name: &str, buf: &'a mut [u8]) -> Result<&'a [u8], Error> {
    header(HEADER_REQUEST, name, buf)
}

/// uri copies the request URI (path and query) into buf and returns it.
pub fn uri(buf: &mut [u8]) -> Result<&[u8], Error> {
    let n = unsafe { raw::get_uri(buf.as_mut_ptr(), buf.len() as u32) };
    if n as usize > buf.len() {
        return Err(Error::TooLong(n));
    }
    Ok(&buf[..n as usize])
}

/// path is uri without the query.
pub fn path(buf: &mut [u8]) -> Result<&[u8], Error> {
    let u = uri(buf)?;
    let end = u.iter().position(|&c| c == b'?').unwrap_or(u.len());
    Ok(&u[..end])
}

/// method copies the request method into buf and returns it.
pub fn method(buf: &mut [u8]) -> Result<&[u8], Error> {
    let n = unsafe { raw::get_method(buf.as_mut_ptr(), buf.len() as u32) };
    if n as usize > buf.len() {
        return Err(Error::TooLong(n));
    }
    Ok(&buf[..n as usize])
}

/// set_status sets the response status code.
pub fn set_status(code: u32) {
    unsafe { raw::set_status_code(code) }
}

/// set_header sets a response header, replacing its values.
pub fn set_header(name: &str, value: &str) {
    unsafe { raw::set_header_value(HEADER_RESPONSE, name.as_ptr(), name.len() as u32, value.as_ptr(), value.len() as u32) }
}

/// write appends bytes to the response body (the first write replaces it).
pub fn write(b: &[u8]) {
    unsafe { raw::write_body(BODY_RESPONSE, b.as_ptr(), b.len() as u32) }
}

/// write_str is write of a string.
pub fn write_str(s: &str) {
    write(s.as_bytes())
}

/// log writes a message to the server's log at level.
pub fn log(level: i32, message: &str) {
    unsafe { raw::log(level, message.as_ptr(), message.len() as u32) }
}

/// respond sets the status, a text/plain content type and the body, and
/// returns what handle_request returns when the guest answered itself.
pub fn respond(code: u32, body: &str) -> u64 {
    set_status(code);
    set_header("content-type", "text/plain; charset=utf-8");
    write_str(body);
    ctx_next(0, false)
}
