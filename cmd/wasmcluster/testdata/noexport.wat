;; Not an http-wasm handler: exports memory but no handle_request.
(module
  (memory (export "memory") 1)
  (func (export "handle_response") (param i32 i32)))
