;; membomb: x-mode 'g' grows memory one page at a time until memory.grow
;; returns -1 and answers the page count reached (decimal); 't' does the same
;; and then traps; anything else answers "ok". An instance reused after the
;; trap answers "reused-after-trap". A grow that fails other than
;; with -1 traps.
(module
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x110) "ok")
  (data (i32.const 0x120) "reused-after-trap") ;; 17
  (global $dirty (mut i32) (i32.const 0))
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
  (func (export "handle_request") (result i64)
    (local $m i32) (local $r i32) (local $end i32)
    (if (global.get $dirty)
      (then
        (call $write_body (i32.const 1) (i32.const 0x120) (i32.const 17))
        (return (i64.const 0))))
    (local.set $m (call $mode))
    (if (i32.or (i32.eq (local.get $m) (i32.const 0x67)) (i32.eq (local.get $m) (i32.const 0x74)))
      (then
        (block $capped (loop $grow
          (local.set $r (memory.grow (i32.const 1)))
          (br_if $capped (i32.eq (local.get $r) (i32.const -1)))
          (if (i32.ne (i32.add (local.get $r) (i32.const 1)) (memory.size)) (then unreachable))
          ;; touch the new page so it is really used
          (i32.store (i32.mul (local.get $r) (i32.const 65536)) (i32.const 1))
          (br $grow)))
        (if (i32.eq (local.get $m) (i32.const 0x74))
          (then (global.set $dirty (i32.const 1)) unreachable))
        (local.set $end (call $itoa (memory.size) (i32.const 0x200)))
        (call $write_body (i32.const 1) (i32.const 0x200) (i32.sub (local.get $end) (i32.const 0x200)))
        (return (i64.const 0))))
    (call $write_body (i32.const 1) (i32.const 0x110) (i32.const 2))
    (i64.const 0)))
