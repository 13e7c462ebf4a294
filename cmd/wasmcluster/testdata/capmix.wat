;; A plugin importing a bit of everything, for wasmcluster inspect: the
;; handler ABI, KV and outbound extension functions, last_error, an
;; extension function no host has, WASI environment and files, env.abort.
(module
  (import "http_handler" "set_status_code" (func $status (param i32)))
  (import "wasmcluster" "kv_get" (func (param i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_open" (func (param i32 i32) (result i32)))
  (import "wasmcluster" "last_error" (func (param i32 i32) (result i32)))
  (import "wasmcluster" "teleport" (func))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "env" "abort" (func (param i32 i32 i32 i32)))
  (memory (export "memory") 2 32)
  (func (export "handle_request") (result i64)
    (call $status (i32.const 200))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
