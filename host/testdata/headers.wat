;; headers: x-mode picks
;;  'q' answer with get_header_names(request) as the body, and its count in
;;      response header x-count (decimal);
;;  'r' buffer_response, next=1; handle_response answers next's response
;;      header names the same way;
;;  'm' response header edits: add x-m: a, add x-m: b, set x-s: 1, set x-s: 2,
;;      set x-gone: 1, remove x-gone; answers "m";
;;  'w' replaces the request body for next: write_body(0, "re") then
;;      write_body(0, "placed"); next=1.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "get_header_names" (func $get_header_names (param i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $m (mut i32) (i32.const 0))
  (data (i32.const 0x110) "x-count") ;; 7
  (data (i32.const 0x120) "x-m")     ;; 3
  (data (i32.const 0x130) "x-s")     ;; 3
  (data (i32.const 0x140) "x-gone")  ;; 6
  (data (i32.const 0x150) "ab12m")
  (data (i32.const 0x160) "replaced")
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func $itoa (param $v i32) (param $dst i32) (result i32)
    (local $tmp i32) (local $n i32) (local $i i32)
    (local.set $tmp (local.get $v))
    (local.set $n (i32.const 1))
    (block $b (loop $l
      (br_if $b (i32.lt_u (local.get $tmp) (i32.const 10)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.set $i (local.get $n))
    (local.set $tmp (local.get $v))
    (loop $w
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $tmp) (i32.const 10))))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $w (i32.gt_u (local.get $i) (i32.const 0))))
    (i32.add (local.get $dst) (local.get $n)))
  ;; answers the names of header map kind as the body, count in x-count
  (func $names (param $kind i32)
    (local $r i64) (local $len i32) (local $end i32)
    (local.set $r (call $get_header_names (local.get $kind) (i32.const 0x1000) (i32.const 0x8000)))
    (local.set $len (i32.wrap_i64 (local.get $r)))
    (if (i32.gt_u (local.get $len) (i32.const 0x8000)) (then unreachable))
    (local.set $end (call $itoa (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (i32.const 0x200)))
    (call $set_header_value (i32.const 1) (i32.const 0x110) (i32.const 7) (i32.const 0x200) (i32.sub (local.get $end) (i32.const 0x200)))
    (call $write_body (i32.const 1) (i32.const 0x1000) (local.get $len)))
  (func (export "handle_request") (result i64)
    (local $m i32)
    (local.set $m (call $mode))
    (global.set $m (local.get $m))
    (if (i32.eq (local.get $m) (i32.const 0x71)) ;; 'q'
      (then (call $names (i32.const 0)) (return (i64.const 0))))
    (if (i32.eq (local.get $m) (i32.const 0x72)) ;; 'r'
      (then (drop (call $enable_features (i32.const 2))) (return (i64.const 1))))
    (if (i32.eq (local.get $m) (i32.const 0x6d)) ;; 'm'
      (then
        (call $add_header_value (i32.const 1) (i32.const 0x120) (i32.const 3) (i32.const 0x150) (i32.const 1))
        (call $add_header_value (i32.const 1) (i32.const 0x120) (i32.const 3) (i32.const 0x151) (i32.const 1))
        (call $set_header_value (i32.const 1) (i32.const 0x130) (i32.const 3) (i32.const 0x152) (i32.const 1))
        (call $set_header_value (i32.const 1) (i32.const 0x130) (i32.const 3) (i32.const 0x153) (i32.const 1))
        (call $set_header_value (i32.const 1) (i32.const 0x140) (i32.const 6) (i32.const 0x152) (i32.const 1))
        (call $remove_header (i32.const 1) (i32.const 0x140) (i32.const 6))
        (call $write_body (i32.const 1) (i32.const 0x154) (i32.const 1))
        (return (i64.const 0))))
    (if (i32.eq (local.get $m) (i32.const 0x77)) ;; 'w'
      (then
        (call $write_body (i32.const 0) (i32.const 0x160) (i32.const 2))
        (call $write_body (i32.const 0) (i32.const 0x162) (i32.const 6))
        (return (i64.const 1))))
    unreachable)
  (func (export "handle_response") (param i32 i32)
    (if (i32.eq (global.get $m) (i32.const 0x72))
      (then (call $names (i32.const 1))))))
