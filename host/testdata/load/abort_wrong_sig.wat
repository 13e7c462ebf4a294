;; imports env.abort with a signature other than AssemblyScript's
(module
  (import "env" "abort" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))
