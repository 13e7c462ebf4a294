;; body: enables buffer_request, reads the whole request body in 32 KiB
;; chunks, and hands next the request headers x-guest-len (bytes read) and
;; x-guest-fnv (FNV-1a 32 of the bytes), both decimal. next=1. The host must
;; then replay the whole body to next.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "x-guest-len")   ;; 11
  (data (i32.const 0x110) "x-guest-fnv")   ;; 11
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
    (local $r i64) (local $n i32) (local $i i32) (local $total i32) (local $h i32) (local $end i32)
    (drop (call $enable_features (i32.const 1)))
    (local.set $h (i32.const 0x811c9dc5))
    (block $done
      (loop $more
        (local.set $r (call $read_body (i32.const 0) (i32.const 0x1000) (i32.const 0x8000)))
        (local.set $n (i32.wrap_i64 (local.get $r)))
        (if (i32.gt_u (local.get $n) (i32.const 0x8000)) (then unreachable))
        (local.set $total (i32.add (local.get $total) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $hashed
          (loop $byte
            (br_if $hashed (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $h (i32.mul
              (i32.xor (local.get $h) (i32.load8_u (i32.add (i32.const 0x1000) (local.get $i))))
              (i32.const 16777619)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $byte)))
        (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    (local.set $end (call $itoa (local.get $total) (i32.const 0x200)))
    (call $set_header_value (i32.const 0) (i32.const 0x100) (i32.const 11)
      (i32.const 0x200) (i32.sub (local.get $end) (i32.const 0x200)))
    (local.set $end (call $itoa (local.get $h) (i32.const 0x300)))
    (call $set_header_value (i32.const 0) (i32.const 0x110) (i32.const 11)
      (i32.const 0x300) (i32.sub (local.get $end) (i32.const 0x300)))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
