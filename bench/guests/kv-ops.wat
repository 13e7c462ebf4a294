;; kv-ops: one shared-store call per request, chosen by the path's first
;; byte after "/": g = kv_get "bench", s = kv_set "bench" (40 bytes),
;; i = kv_incr "hits"; anything else makes no call. Answers 200 with
;; "ok\n", or 503 when the call failed. For bench/kv.sh.
(module
  (import "wasmcluster" "kv_get" (func $get (param i32 i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "kv_set" (func $set (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "wasmcluster" "kv_incr" (func $incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bench")
  (data (i32.const 8) "hits")
  (data (i32.const 16) "ok\n")
  (data (i32.const 32) "a value of about forty bytes, say 40 b.")
  (func (export "handle_request") (result i64)
    (local $st i32) (local $op i32)
    (drop (call $get_uri (i32.const 128) (i32.const 64)))
    (local.set $op (i32.load8_u (i32.const 129)))
    (if (i32.eq (local.get $op) (i32.const 103)) ;; g
      (then (local.set $st (i32.wrap_i64 (i64.shr_u
        (call $get (i32.const 0) (i32.const 5) (i32.const 256) (i32.const 1024) (i32.const 24)) (i64.const 32))))))
    (if (i32.eq (local.get $op) (i32.const 115)) ;; s
      (then (local.set $st (call $set (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 39) (i64.const 0) (i32.const 24)))))
    (if (i32.eq (local.get $op) (i32.const 105)) ;; i
      (then (local.set $st (call $incr (i32.const 8) (i32.const 4) (i64.const 1) (i64.const 0) (i32.const 24)))))
    (if (local.get $st) (then (call $set_status_code (i32.const 503))))
    (call $write_body (i32.const 1) (i32.const 16) (i32.const 3))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
