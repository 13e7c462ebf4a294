;; mutate: proceeds to next, then in handle_response does what the phase
;; rules forbid, chosen by x-mode:
;;  'a' set_header_value on the request (kind 0)
;;  'b' same, with buffer_response enabled (nothing sent yet)
;;  'c' write_body on the response without buffer_response
;;  'd' set_status_code(299) without buffer_response
;;  'e' set_uri("/late")
;;  'f' write_body on the request (kind 0)
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 1)
  (global $m (mut i32) (i32.const 0))
  (data (i32.const 0x110) "x-late")   ;; 6
  (data (i32.const 0x120) "1")
  (data (i32.const 0x130) "corrupt")  ;; 7
  (data (i32.const 0x140) "/late")    ;; 5
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (global.set $m (call $mode))
    (if (i32.eq (global.get $m) (i32.const 0x62)) ;; 'b'
      (then (drop (call $enable_features (i32.const 2)))))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)
    (local $m i32)
    (local.set $m (global.get $m))
    (if (i32.or (i32.eq (local.get $m) (i32.const 0x61)) (i32.eq (local.get $m) (i32.const 0x62)))
      (then (call $set_header_value (i32.const 0) (i32.const 0x110) (i32.const 6) (i32.const 0x120) (i32.const 1))))
    (if (i32.eq (local.get $m) (i32.const 0x63))
      (then (call $write_body (i32.const 1) (i32.const 0x130) (i32.const 7))))
    (if (i32.eq (local.get $m) (i32.const 0x64))
      (then (call $set_status_code (i32.const 299))))
    (if (i32.eq (local.get $m) (i32.const 0x65))
      (then (call $set_uri (i32.const 0x140) (i32.const 5))))
    (if (i32.eq (local.get $m) (i32.const 0x66))
      (then (call $write_body (i32.const 0) (i32.const 0x130) (i32.const 7))))))
