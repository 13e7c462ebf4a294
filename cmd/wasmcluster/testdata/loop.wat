;; loop: x-mode 'l' spins forever in handle_request; 'r' proceeds to next
;; and spins forever in handle_response; 'b' does the same with
;; buffer_response; anything else answers "fast".
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x110) "fast")
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (local $m i32)
    (local.set $m (call $mode))
    (if (i32.eq (local.get $m) (i32.const 0x6c)) ;; 'l'
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $m) (i32.const 0x72)) ;; 'r'
      (then (return (i64.const 1))))
    (if (i32.eq (local.get $m) (i32.const 0x62)) ;; 'b'
      (then
        (drop (call $enable_features (i32.const 2)))
        (return (i64.const 1))))
    (call $write_body (i32.const 1) (i32.const 0x110) (i32.const 4))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)
    (loop $forever (br $forever))))
