;; log: for levels debug(-1), info(0), warn(1), error(2) writes '0'/'1' =
;; log_enabled(level) to the body, and logs "<level>-msg" at each enabled
;; level.
(module
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "debug-msg")  ;; 9
  (data (i32.const 0x110) "info-msg")   ;; 8
  (data (i32.const 0x120) "warn-msg")   ;; 8
  (data (i32.const 0x130) "error-msg")  ;; 9
  (func $one (param $level i32) (param $msg i32) (param $len i32) (param $out i32)
    (local $on i32)
    (local.set $on (call $log_enabled (local.get $level)))
    (if (i32.gt_u (local.get $on) (i32.const 1)) (then unreachable))
    (i32.store8 (local.get $out) (i32.add (i32.const 48) (local.get $on)))
    (if (local.get $on)
      (then (call $log (local.get $level) (local.get $msg) (local.get $len)))))
  (func (export "handle_request") (result i64)
    (call $one (i32.const -1) (i32.const 0x100) (i32.const 9) (i32.const 0))
    (call $one (i32.const 0) (i32.const 0x110) (i32.const 8) (i32.const 1))
    (call $one (i32.const 1) (i32.const 0x120) (i32.const 8) (i32.const 2))
    (call $one (i32.const 2) (i32.const 0x130) (i32.const 9) (i32.const 3))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 4))
    (i64.const 0)))
