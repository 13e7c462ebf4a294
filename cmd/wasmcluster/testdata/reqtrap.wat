;; reqtrap: loads fine (no _initialize needed) but traps on every request.
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) unreachable)
  (func (export "handle_response") (param i32 i32)))
