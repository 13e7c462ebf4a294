;; declares a minimum of 2000 pages, above the default cap of 1024
(module
  (memory (export "memory") 2000)
  (func (export "handle_request") (result i64) (i64.const 0)))
