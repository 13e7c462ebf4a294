;; memspin: handle_request stores to its memory in a loop of 300M steps
;; (hundreds of milliseconds), then answers "done". A test closes the plugin
;; mid-loop, so the guest keeps writing to memory the runtime freed.
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "done")
  (func (export "handle_request") (result i64)
    (local $i i32)
    (loop $l
      (i32.store (i32.add (i32.const 16) (i32.and (local.get $i) (i32.const 0xfff0))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 300000000))))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 4))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
