;; calls env.abort from _initialize, as an AssemblyScript top-level assert does
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "\08\00\00\00")
  (data (i32.const 104) "i\00n\00i\00t\00")
  (func (export "_initialize") (call $abort (i32.const 104) (i32.const 0) (i32.const 3) (i32.const 1)))
  (func (export "handle_request") (result i64) (i64.const 0)))
