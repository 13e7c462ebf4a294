;; hostcall: calls one host function with arguments chosen by the client,
;; for the bad-argument tests and FuzzHostFunctions. The request body holds 7
;; little-endian u32: a control word, then up to 6 arguments (unused ones
;; ignored). Control word:
;;   bits 0..7   function index, in the order of abi.HostFuncs (past the end:
;;               call nothing)
;;   bit  8      make the call in handle_response, after next (next=1)
;;   bits 9..11  features to enable for the request first: bit 9 =
;;               buffer_request(1), bit 10 = buffer_response(2), bit 11 =
;;               trailers(4)
;; When the call is made in handle_request and returns, the guest answers
;; "ok" (next=0). A $dirty flag is set around the call: an instance reused
;; after a call that trapped answers "reused-after-trap" instead.
;; Memory: args at 0x0, "x-a" at 0x40, "ok" at 0x50; one page in total.
;; Keep the case order equal to abi.HostFuncs.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "get_method" (func $get_method (param i32 i32) (result i32)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "get_protocol_version" (func $get_protocol_version (param i32 i32) (result i32)))
  (import "http_handler" "get_header_names" (func $get_header_names (param i32 i32 i32) (result i64)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status_code (result i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (import "http_handler" "get_source_addr" (func $get_source_addr (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x40) "x-a")
  (data (i32.const 0x50) "ok")
  (data (i32.const 0x60) "reused-after-trap") ;; 17
  (global $dirty (mut i32) (i32.const 0))
  ;; calls the function the control word at 0x0 names, with the arguments
  ;; at 0x4..0x18
  (func $dispatch
    (local $fn i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32)
    (local.set $fn (i32.and (i32.load (i32.const 0)) (i32.const 0xff)))
    (local.set $a0 (i32.load (i32.const 4)))
    (local.set $a1 (i32.load (i32.const 8)))
    (local.set $a2 (i32.load (i32.const 12)))
    (local.set $a3 (i32.load (i32.const 16)))
    (local.set $a4 (i32.load (i32.const 20)))
    (global.set $dirty (i32.const 1))
    (block $end
    (block $c18
    (block $c17
    (block $c16
    (block $c15
    (block $c14
    (block $c13
    (block $c12
    (block $c11
    (block $c10
    (block $c9
    (block $c8
    (block $c7
    (block $c6
    (block $c5
    (block $c4
    (block $c3
    (block $c2
    (block $c1
    (block $c0
      (br_table $c0 $c1 $c2 $c3 $c4 $c5 $c6 $c7 $c8 $c9 $c10 $c11 $c12 $c13 $c14 $c15 $c16 $c17 $c18 $end (local.get $fn)))
      (drop (call $enable_features (local.get $a0))) (br $end))
      (drop (call $get_config (local.get $a0) (local.get $a1))) (br $end))
      (drop (call $log_enabled (local.get $a0))) (br $end))
      (call $log (local.get $a0) (local.get $a1) (local.get $a2)) (br $end))
      (drop (call $get_method (local.get $a0) (local.get $a1))) (br $end))
      (call $set_method (local.get $a0) (local.get $a1)) (br $end))
      (drop (call $get_uri (local.get $a0) (local.get $a1))) (br $end))
      (call $set_uri (local.get $a0) (local.get $a1)) (br $end))
      (drop (call $get_protocol_version (local.get $a0) (local.get $a1))) (br $end))
      (drop (call $get_header_names (local.get $a0) (local.get $a1) (local.get $a2))) (br $end))
      (drop (call $get_header_values (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $end))
      (call $set_header_value (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4)) (br $end))
      (call $add_header_value (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4)) (br $end))
      (call $remove_header (local.get $a0) (local.get $a1) (local.get $a2)) (br $end))
      (drop (call $read_body (local.get $a0) (local.get $a1) (local.get $a2))) (br $end))
      (call $write_body (local.get $a0) (local.get $a1) (local.get $a2)) (br $end))
      (drop (call $get_status_code)) (br $end))
      (call $set_status_code (local.get $a0)) (br $end))
      (drop (call $get_source_addr (local.get $a0) (local.get $a1))))
    (global.set $dirty (i32.const 0)))
  (func (export "handle_request") (result i64)
    (local $got i32) (local $r i64) (local $ctl i32)
    (if (global.get $dirty)
      (then
        (call $write_body (i32.const 1) (i32.const 0x60) (i32.const 17))
        (return (i64.const 0))))
    ;; read exactly 28 bytes (or until EOF) of the request body to 0x0
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 28))
    (block $read
      (loop $more
        (br_if $read (i32.ge_u (local.get $got) (i32.const 28)))
        (local.set $r (call $read_body (i32.const 0) (local.get $got) (i32.sub (i32.const 28) (local.get $got))))
        (local.set $got (i32.add (local.get $got) (i32.wrap_i64 (local.get $r))))
        (br_if $read (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    (local.set $ctl (i32.load (i32.const 0)))
    (if (i32.and (local.get $ctl) (i32.const 0xe00))
      (then (drop (call $enable_features
        (i32.and (i32.shr_u (local.get $ctl) (i32.const 9)) (i32.const 7))))))
    (if (i32.and (local.get $ctl) (i32.const 0x100))
      (then (return (i64.const 1))))
    (call $dispatch)
    (call $write_body (i32.const 1) (i32.const 0x50) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)
    (call $dispatch)))
