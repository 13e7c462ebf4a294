;; no handle_request export
(module
  (memory (export "memory") 1)
  (func (export "handle_response") (param i32 i32)))
