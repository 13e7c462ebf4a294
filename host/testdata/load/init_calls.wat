;; _initialize uses what an http-wasm SDK uses at init: get_config (twice,
;; per the buffer rule), log and enable_features. handle_request answers the
;; config read at init time.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (data (i32.const 0x100) "init-log")  ;; 8
  (func (export "_initialize")
    (global.set $n (call $get_config (i32.const 0x1000) (i32.const 0)))
    (if (i32.gt_u (global.get $n) (i32.const 0x1000)) (then unreachable))
    (drop (call $get_config (i32.const 0x1000) (global.get $n)))
    (call $log (i32.const 0) (i32.const 0x100) (i32.const 8))
    (drop (call $enable_features (i32.const 1))))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0x1000) (global.get $n))
    (i64.const 0)))
