;; an old-style reactor: _start returns normally (and runs exactly once per
;; instance); handle_request answers "started" if it ran, else traps
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $started (mut i32) (i32.const 0))
  (data (i32.const 0) "started")
  (func (export "_start")
    (global.set $started (i32.add (global.get $started) (i32.const 1))))
  (func (export "handle_request") (result i64)
    (if (i32.ne (global.get $started) (i32.const 1)) (then unreachable))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 7))
    (i64.const 0)))
