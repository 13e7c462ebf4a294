;; Opens its guest config, a path, with WASI path_open relative to fd 3
;; (the first preopen) and answers 200, or 400 + the WASI errno. The raw
;; call, no libc path cleaning: what a hostile guest can send.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "set_status_code" (func $status (param i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $len i32) (local $errno i32)
    (local.set $len (call $get_config (i32.const 1024) (i32.const 1024)))
    ;; fd 3, follow links, path at 1024, no oflags, read rights, fd out at 16
    (local.set $errno (call $path_open (i32.const 3) (i32.const 1) (i32.const 1024) (local.get $len)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 16)))
    (if (i32.eqz (local.get $errno))
      (then (call $status (i32.const 200)))
      (else (call $status (i32.add (i32.const 400) (local.get $errno)))))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
