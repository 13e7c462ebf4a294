;; kvcall: calls one wasmcluster.kv_* function (or last_error) with
;; arguments chosen by the client, for the KV bad-input tests and
;; FuzzKVFunctions. The request body holds 11 little-endian u32: a control
;; word, 8 arguments (unused ones ignored; an i64 parameter takes its
;; argument sign-extended), then dump_ptr and dump_len. The whole request
;; body is at 0x100 during the call, so keys and values can be placed
;; there. Control word bits 0..7: function index, in the order kv_get,
;; kv_set, kv_delete, kv_incr, kv_cas, kv_keys, last_error (past the end:
;; call nothing). Bits 8..15, when not 0: after the first call, call
;; function (bits 8..15)-1 in the same request with the same arguments but
;; argument 3 (a buf_limit or val_len) replaced by argument 7: a retry with
;; a bigger buffer, or a read after a write. The guest answers 200 with: the call's result (8 bytes,
;; little-endian), then last_error's length (4 bytes) and message (at most
;; 176 bytes), then guest memory [dump_ptr, dump_ptr+dump_len) (bounded to
;; the page), e.g. a value kv_get wrote or a revision.
;; Memory: args at 0x0, result at 0x40, message at 0x4c, the body at 0x100;
;; one page.
(module
  (import "wasmcluster" "kv_get" (func $get (param i32 i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "kv_set" (func $set (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "wasmcluster" "kv_delete" (func $delete (param i32 i32) (result i32)))
  (import "wasmcluster" "kv_incr" (func $incr (param i32 i32 i64 i64 i32) (result i32)))
  (import "wasmcluster" "kv_cas" (func $cas (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasmcluster" "kv_keys" (func $keys (param i32 i32 i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func $arg (param $i i32) (result i32)
    (i32.load (i32.add (i32.const 4) (i32.mul (local.get $i) (i32.const 4)))))
  (func $arg64 (param $i i32) (result i64)
    (i64.extend_i32_s (call $arg (local.get $i))))
  (func $dispatch (param $fn i32) (result i64)
    (block $end
    (block $c6
    (block $c5
    (block $c4
    (block $c3
    (block $c2
    (block $c1
    (block $c0
      (br_table $c0 $c1 $c2 $c3 $c4 $c5 $c6 $end (local.get $fn)))
      (return (call $get (call $arg (i32.const 0)) (call $arg (i32.const 1)) (call $arg (i32.const 2))
        (call $arg (i32.const 3)) (call $arg (i32.const 4)))))
      (return (i64.extend_i32_u (call $set (call $arg (i32.const 0)) (call $arg (i32.const 1)) (call $arg (i32.const 2))
        (call $arg (i32.const 3)) (call $arg64 (i32.const 4)) (call $arg (i32.const 5))))))
      (return (i64.extend_i32_u (call $delete (call $arg (i32.const 0)) (call $arg (i32.const 1))))))
      (return (i64.extend_i32_u (call $incr (call $arg (i32.const 0)) (call $arg (i32.const 1)) (call $arg64 (i32.const 2))
        (call $arg64 (i32.const 3)) (call $arg (i32.const 4))))))
      (return (i64.extend_i32_u (call $cas (call $arg (i32.const 0)) (call $arg (i32.const 1)) (call $arg (i32.const 2))
        (call $arg (i32.const 3)) (call $arg64 (i32.const 4)) (call $arg64 (i32.const 5)) (call $arg (i32.const 6))))))
      (return (call $keys (call $arg (i32.const 0)) (call $arg (i32.const 1)) (call $arg (i32.const 2))
        (call $arg (i32.const 3)) (call $arg (i32.const 4)) (call $arg (i32.const 5)))))
      (return (i64.extend_i32_u (call $last_error (call $arg (i32.const 0)) (call $arg (i32.const 1))))))
    (i64.const 0))
  (func (export "handle_request") (result i64)
    (local $got i32) (local $r i64)
    ;; the whole body (up to 0xf000 bytes) to 0x100
    (block $read
      (loop $more
        (local.set $r (call $read_body (i32.const 0)
          (i32.add (i32.const 0x100) (local.get $got)) (i32.sub (i32.const 0xf000) (local.get $got))))
        (local.set $got (i32.add (local.get $got) (i32.wrap_i64 (local.get $r))))
        (br_if $read (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br_if $read (i32.ge_u (local.get $got) (i32.const 0xf000)))
        (br $more)))
    (memory.copy (i32.const 0) (i32.const 0x100) (i32.const 44))
    (i64.store (i32.const 0x40) (call $dispatch (i32.and (i32.load (i32.const 0)) (i32.const 0xff))))
    (local.set $got (i32.and (i32.shr_u (i32.load (i32.const 0)) (i32.const 8)) (i32.const 0xff)))
    (if (local.get $got)
      (then
        (i32.store (i32.const 16) (i32.load (i32.const 32)))
        (i64.store (i32.const 0x40) (call $dispatch (i32.sub (local.get $got) (i32.const 1))))))
    (local.set $got (call $last_error (i32.const 0x4c) (i32.const 176)))
    (i32.store (i32.const 0x48) (local.get $got))
    (if (i32.gt_u (local.get $got) (i32.const 176)) (then (local.set $got (i32.const 0))))
    (call $write_body (i32.const 1) (i32.const 0x40) (i32.add (i32.const 12) (local.get $got)))
    (if (i32.le_u (i32.add (i32.load (i32.const 36)) (i32.load (i32.const 40))) (i32.const 0x10000))
      (then (call $write_body (i32.const 1) (i32.load (i32.const 36)) (i32.load (i32.const 40)))))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
