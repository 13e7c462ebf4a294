/*
 * wasmcluster.h: the http-wasm handler ABI for C guests of wasmcluster.
 *
 * Header-only; the Go definitions it mirrors are abi/abi.go, abi/packed.go
 * and abi/extension.go, and the public ABI is
 * https://github.com/http-wasm/http-wasm (content/http-handler-abi.md).
 * A guest built against it runs on any http-wasm host (Traefik, Dapr).
 *
 * Build a plugin with clang and wasi-libc (Debian: clang lld wasi-libc
 * libclang-rt-14-dev-wasm32):
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
 *       -Wl,--strip-all -I abi/c -o plugin.wasm plugin.c
 *
 * -mexec-model=reactor links crt1-reactor.o, which exports _initialize (the
 * host runs it once per instance, before the first request) instead of
 * _start: without it the link wants a main, and with a main the linker
 * wraps every export so that each call re-runs the C constructors. The
 * export_name and import_module attributes below are all the rest needs:
 * no linker flags for exports or imports.
 *
 * The guest defines handle_request (declared below, so a definition is all
 * it takes to export it); handle_response and wasmcluster_response_wanted
 * only when it calls next and has work to do afterwards.
 */
#ifndef WASMCLUSTER_H
#define WASMCLUSTER_H

#include <stdint.h>
#include <string.h>

#define WC_IMPORT(name) __attribute__((import_module("http_handler"), import_name(name)))
#define WC_EXPORT(name) __attribute__((export_name(name)))

/* Header maps (kind argument of the header functions). */
enum {
	WC_HEADER_REQUEST = 0,
	WC_HEADER_RESPONSE = 1,
	WC_HEADER_REQUEST_TRAILERS = 2,  /* needs WC_FEATURE_TRAILERS */
	WC_HEADER_RESPONSE_TRAILERS = 3, /* needs WC_FEATURE_TRAILERS */
};

/* Bodies (kind argument of read_body and write_body). */
enum {
	WC_BODY_REQUEST = 0,
	WC_BODY_RESPONSE = 1,
};

/*
 * Feature bits for enable_features. Called outside a request (in a
 * constructor) they set the default for every request on the instance;
 * inside handle_request they apply to that request only.
 */
enum {
	WC_FEATURE_BUFFER_REQUEST = 1,  /* next still gets the body the guest read */
	WC_FEATURE_BUFFER_RESPONSE = 2, /* handle_response may read and rewrite next's response */
	WC_FEATURE_TRAILERS = 4,        /* the trailer header kinds */
};

/* Levels of log and log_enabled. */
enum {
	WC_LOG_DEBUG = -1,
	WC_LOG_INFO = 0,
	WC_LOG_WARN = 1,
	WC_LOG_ERROR = 2,
	WC_LOG_NONE = 3,
};

/*
 * The 19 host functions of module http_handler. Pointers are guest memory
 * addresses. Functions taking (buf, buf_limit) follow the buffer rule: the
 * host writes the result only if it fits (len <= buf_limit) and always
 * returns its full length, so a result larger than buf_limit means "call
 * again with a buffer of that size".
 */
WC_IMPORT("enable_features") uint32_t wc_enable_features(uint32_t features); /* -> features now enabled */
WC_IMPORT("get_config") uint32_t wc_get_config(char *buf, uint32_t buf_limit);
WC_IMPORT("log_enabled") uint32_t wc_log_enabled(int32_t level);
WC_IMPORT("log") void wc_log(int32_t level, const char *message, uint32_t message_len);
WC_IMPORT("get_method") uint32_t wc_get_method(char *buf, uint32_t buf_limit);
WC_IMPORT("set_method") void wc_set_method(const char *method, uint32_t method_len);
WC_IMPORT("get_uri") uint32_t wc_get_uri(char *buf, uint32_t buf_limit);
WC_IMPORT("set_uri") void wc_set_uri(const char *uri, uint32_t uri_len);
WC_IMPORT("get_protocol_version") uint32_t wc_get_protocol_version(char *buf, uint32_t buf_limit);
/* -> count/len (wc_count, wc_len): lowercase names, each NUL-terminated */
WC_IMPORT("get_header_names") uint64_t wc_get_header_names(uint32_t kind, char *buf, uint32_t buf_limit);
/* -> count/len (wc_count, wc_len): the values, each NUL-terminated */
WC_IMPORT("get_header_values") uint64_t wc_get_header_values(uint32_t kind, const char *name, uint32_t name_len,
                                                             char *buf, uint32_t buf_limit);
WC_IMPORT("set_header_value") void wc_set_header_value(uint32_t kind, const char *name, uint32_t name_len,
                                                       const char *value, uint32_t value_len);
WC_IMPORT("add_header_value") void wc_add_header_value(uint32_t kind, const char *name, uint32_t name_len,
                                                       const char *value, uint32_t value_len);
WC_IMPORT("remove_header") void wc_remove_header(uint32_t kind, const char *name, uint32_t name_len);
/* -> eof/len (wc_eof, wc_len); stateful: each call reads on from the last */
WC_IMPORT("read_body") uint64_t wc_read_body(uint32_t kind, char *buf, uint32_t buf_limit);
/* The first call in a request replaces the body, later ones append. */
WC_IMPORT("write_body") void wc_write_body(uint32_t kind, const char *body, uint32_t body_len);
WC_IMPORT("get_status_code") uint32_t wc_get_status_code(void);
WC_IMPORT("set_status_code") void wc_set_status_code(uint32_t status_code);
WC_IMPORT("get_source_addr") uint32_t wc_get_source_addr(char *buf, uint32_t buf_limit);

/*
 * Guest exports. Declared here with their export names, so defining the
 * function exports it.
 *
 * handle_request returns wc_ctx_next(ctx, next): next=0 when the guest wrote
 * the response, next=1 to call the next handler (with --upstream, the
 * upstream; else a 404).
 */
WC_EXPORT("handle_request") uint64_t handle_request(void);

/*
 * handle_response runs after next, on the same instance, with the ctx
 * handle_request returned; is_error is 1 when next failed. Define it only
 * when the guest works on next's response (with WC_FEATURE_BUFFER_RESPONSE
 * to touch it).
 */
WC_EXPORT("handle_response") void handle_response(uint32_t req_ctx, uint32_t is_error);

/*
 * wasmcluster's extension (abi/extension.go), optional and ignored by other
 * hosts. wasmcluster calls it right after handle_request returned next=1,
 * with its ctx. Return 0 when handle_response has nothing to do for this
 * request: the host then skips handle_response and frees the instance
 * before next runs, so a slow upstream or a long stream does not hold it.
 * Define it whenever the guest defines handle_response but needs it for
 * some requests only; a guest without handle_response does not need it.
 */
WC_EXPORT("wasmcluster_response_wanted") uint32_t wasmcluster_response_wanted(uint32_t req_ctx);

/* Packed results (abi/packed.go). Only the low 32 bits of ctx_next decide next. */
static inline uint64_t wc_ctx_next(uint32_t ctx, int next) { return (uint64_t)ctx << 32 | (next ? 1u : 0u); }
static inline uint32_t wc_count(uint64_t count_len) { return (uint32_t)(count_len >> 32); }
static inline uint32_t wc_len(uint64_t packed) { return (uint32_t)packed; } /* count/len and eof/len */
static inline int wc_eof(uint64_t eof_len) { return (eof_len >> 32) != 0; }

/* A few helpers for the common cases; everything else is the raw calls above. */

enum {
	WC_ABSENT = -1,   /* no such header */
	WC_TOO_LONG = -2, /* its values do not fit in the buffer */
};

/*
 * wc_header copies the first value of header name (any case) of kind into
 * buf, NUL-terminated, and returns its length, or WC_ABSENT or WC_TOO_LONG.
 * All the header's values must fit in cap, as the host writes all or none.
 */
static inline int32_t wc_header(uint32_t kind, const char *name, char *buf, uint32_t cap)
{
	uint64_t cl = wc_get_header_values(kind, name, (uint32_t)strlen(name), buf, cap);
	if (wc_count(cl) == 0)
		return WC_ABSENT;
	if (wc_len(cl) > cap)
		return WC_TOO_LONG;
	return (int32_t)strlen(buf); /* up to the first value's NUL */
}

/* wc_request_header is wc_header for the request's headers. */
static inline int32_t wc_request_header(const char *name, char *buf, uint32_t cap)
{
	return wc_header(WC_HEADER_REQUEST, name, buf, cap);
}

/*
 * wc_path copies the request's path (the URI without its query) into buf,
 * NUL-terminated, and returns its length, or WC_TOO_LONG.
 */
static inline int32_t wc_path(char *buf, uint32_t cap)
{
	uint32_t n = wc_get_uri(buf, cap);
	if (n >= cap) /* no room for the NUL */
		return WC_TOO_LONG;
	buf[n] = 0;
	char *q = strchr(buf, '?');
	if (q != NULL)
		*q = 0;
	return (int32_t)strlen(buf);
}

/* wc_set_header sets a response header, replacing its values. */
static inline void wc_set_header(const char *name, const char *value)
{
	wc_set_header_value(WC_HEADER_RESPONSE, name, (uint32_t)strlen(name), value, (uint32_t)strlen(value));
}

/* wc_write appends n bytes to the response body (the first write replaces it). */
static inline void wc_write(const char *s, uint32_t n) { wc_write_body(WC_BODY_RESPONSE, s, n); }

/* wc_write_str is wc_write of a NUL-terminated string. */
static inline void wc_write_str(const char *s) { wc_write(s, (uint32_t)strlen(s)); }

#endif /* WASMCLUSTER_H */
