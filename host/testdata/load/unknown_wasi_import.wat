;; imports a function wasi_snapshot_preview1 does not have
(module
  (import "wasi_snapshot_preview1" "nope" (func))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))
