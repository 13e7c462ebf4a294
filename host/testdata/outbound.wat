;; outbound: runs a client-chosen sequence of wasmcluster.outbound_* calls,
;; for the outbound host function tests and FuzzOutboundFunctions.
;; The request body (up to 4 KiB) is copied to 0x1000:
;;   u32 count, then count records of 6 little-endian u32: a function index
;;   (0 open, 1 add_header, 2 write_body, 3 send, 4 get_header_names,
;;   5 get_header_values, 6 read_body, 7 close, 8 last_error; others call
;;   nothing) and 5 arguments (unused ones ignored); strings the arguments
;;   point at follow the records (their address is 0x1000 + offset).
;; At most 16 records run. The answer's body is each call's result as a
;; little-endian u64 (i32 results zero-extended), in order.
;; Memory: body at 0x1000, results at 0x2000, the rest free for buffers.
(module
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "wasmcluster" "outbound_open" (func $open (param i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_add_header" (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmcluster" "outbound_write_body" (func $write (param i32 i32 i32) (result i32)))
  (import "wasmcluster" "outbound_send" (func $send (param i32) (result i64)))
  (import "wasmcluster" "outbound_get_header_names" (func $names (param i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_get_header_values" (func $values (param i32 i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_read_body" (func $read (param i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_close" (func $close (param i32) (result i32)))
  (import "wasmcluster" "last_error" (func $last_error (param i32 i32) (result i32)))
  (memory (export "memory") 2)

  ;; reads the request body to 0x1000 (at most 4 KiB)
  (func $read_all
    (local $off i32) (local $r i64)
    (loop $more
      (local.set $r (call $read_body (i32.const 0) (i32.add (i32.const 0x1000) (local.get $off))
        (i32.sub (i32.const 0x1000) (local.get $off))))
      (local.set $off (i32.add (local.get $off) (i32.wrap_i64 (local.get $r))))
      (br_if $more (i32.and
        (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
        (i32.lt_u (local.get $off) (i32.const 0x1000))))))

  ;; calls record i and returns its result
  (func $call (param $rec i32) (result i64)
    (local $fn i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32)
    (local.set $fn (i32.load (local.get $rec)))
    (local.set $a0 (i32.load offset=4 (local.get $rec)))
    (local.set $a1 (i32.load offset=8 (local.get $rec)))
    (local.set $a2 (i32.load offset=12 (local.get $rec)))
    (local.set $a3 (i32.load offset=16 (local.get $rec)))
    (local.set $a4 (i32.load offset=20 (local.get $rec)))
    (if (i32.eq (local.get $fn) (i32.const 0)) (then
      (return (call $open (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))))
    (if (i32.eq (local.get $fn) (i32.const 1)) (then
      (return (i64.extend_i32_u (call $add_header (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))))))
    (if (i32.eq (local.get $fn) (i32.const 2)) (then
      (return (i64.extend_i32_u (call $write (local.get $a0) (local.get $a1) (local.get $a2))))))
    (if (i32.eq (local.get $fn) (i32.const 3)) (then
      (return (call $send (local.get $a0)))))
    (if (i32.eq (local.get $fn) (i32.const 4)) (then
      (return (call $names (local.get $a0) (local.get $a1) (local.get $a2)))))
    (if (i32.eq (local.get $fn) (i32.const 5)) (then
      (return (call $values (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4)))))
    (if (i32.eq (local.get $fn) (i32.const 6)) (then
      (return (call $read (local.get $a0) (local.get $a1) (local.get $a2)))))
    (if (i32.eq (local.get $fn) (i32.const 7)) (then
      (return (i64.extend_i32_u (call $close (local.get $a0))))))
    (if (i32.eq (local.get $fn) (i32.const 8)) (then
      (return (i64.extend_i32_u (call $last_error (local.get $a0) (local.get $a1))))))
    (i64.const 0))

  (func (export "handle_request") (result i64)
    (local $n i32) (local $i i32)
    (call $read_all)
    (local.set $n (i32.load (i32.const 0x1000)))
    (if (i32.gt_u (local.get $n) (i32.const 16)) (then (local.set $n (i32.const 16))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i64.store (i32.add (i32.const 0x2000) (i32.mul (local.get $i) (i32.const 8)))
          (call $call (i32.add (i32.const 0x1004) (i32.mul (local.get $i) (i32.const 24)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $write_body (i32.const 1) (i32.const 0x2000) (i32.mul (local.get $n) (i32.const 8)))
    (i64.const 0))

  (func (export "handle_response") (param i32 i32)))
