;; nextonly: next=1 and no handle_response export (it is optional).
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1)))
