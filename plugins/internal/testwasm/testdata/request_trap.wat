;; request_trap: loads fine but traps in handle_request.
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) unreachable))
