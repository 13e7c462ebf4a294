;; slowinit: _initialize spins ~1M iterations (tens of milliseconds with deadline checks) so a
;; test can tell whether loading waited for every pool instance; answers
;; "ok".
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (global $spun (mut i32) (i32.const 0))
  (func (export "_initialize")
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (global.set $spun (local.get $i)))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
