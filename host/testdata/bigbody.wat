;; bigbody: sets status 201 and header x-early, then writes a 1 MiB body in
;; 16 KiB write_body calls (byte i is i mod 251), past the point where the
;; host must stream. x-mode 't' traps after 128 KiB instead of finishing.
(module
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x110) "x-early") ;; 7
  (data (i32.const 0x120) "1")
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (local $i i32) (local $chunk i32) (local $m i32)
    (local.set $m (call $mode))
    (call $set_status_code (i32.const 201))
    (call $set_header_value (i32.const 1) (i32.const 0x110) (i32.const 7) (i32.const 0x120) (i32.const 1))
    (loop $chunks
      ;; fill 0x10000..0x14000 with the bytes of this chunk
      (local.set $i (i32.const 0))
      (loop $fill
        (i32.store8 (i32.add (i32.const 0x10000) (local.get $i))
          (i32.rem_u (i32.add (i32.mul (local.get $chunk) (i32.const 0x4000)) (local.get $i)) (i32.const 251)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $fill (i32.lt_u (local.get $i) (i32.const 0x4000))))
      (call $write_body (i32.const 1) (i32.const 0x10000) (i32.const 0x4000))
      (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
      (if (i32.and (i32.eq (local.get $m) (i32.const 0x74)) (i32.eq (local.get $chunk) (i32.const 8)))
        (then unreachable))
      (br_if $chunks (i32.lt_u (local.get $chunk) (i32.const 64))))
    (i64.const 0)))
