;; Leaks one 64 KiB page of touched linear memory per request (until the
;; instance's memory cap), to exercise recycle.max_rss. Answers 200 empty.
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $old i32)
    (local.set $old (memory.grow (i32.const 1)))
    (if (i32.ge_s (local.get $old) (i32.const 0))
      (then (memory.fill (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1) (i32.const 65536))))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
