;; response: proceeds to next with ctx=42, then works in handle_response.
;; Guest config "buffer" enables buffer_response for the request and rewrites
;; next's status (-> 201), headers (+x-after, -x-next-remove) and body
;; ("rewritten:" + next's body). Any other config only logs "after-next".
;; Both modes set response header x-before before next. A wrong req_ctx or an
;; unexpected next status (want 203) traps.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status_code (result i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 2)
  (global $buffered (mut i32) (i32.const 0))
  (data (i32.const 0x100) "x-before")        ;; 8
  (data (i32.const 0x110) "1")
  (data (i32.const 0x120) "x-after")         ;; 7
  (data (i32.const 0x130) "x-next-remove")   ;; 13
  (data (i32.const 0x140) "after-next")      ;; 10
  (data (i32.const 0x150) "rewritten:")      ;; 10
  (func (export "handle_request") (result i64)
    (global.set $buffered
      (i32.eq (call $get_config (i32.const 0) (i32.const 64)) (i32.const 6)))
    (if (global.get $buffered)
      (then (drop (call $enable_features (i32.const 2)))))
    (call $set_header_value (i32.const 1) (i32.const 0x100) (i32.const 8) (i32.const 0x110) (i32.const 1))
    (i64.const 0x2a00000001))
  (func (export "handle_response") (param $ctx i32) (param $is_error i32)
    (local $off i32) (local $r i64)
    (if (i32.ne (local.get $ctx) (i32.const 42)) (then unreachable))
    (if (i32.eqz (global.get $buffered))
      (then
        (call $log (i32.const 0) (i32.const 0x140) (i32.const 10))
        (return)))
    (if (i32.ne (call $get_status_code) (i32.const 203)) (then unreachable))
    (call $set_status_code (i32.const 201))
    (call $set_header_value (i32.const 1) (i32.const 0x120) (i32.const 7) (i32.const 0x110) (i32.const 1))
    (call $remove_header (i32.const 1) (i32.const 0x130) (i32.const 13))
    ;; read next's whole body to 0x1000
    (local.set $off (i32.const 0x1000))
    (block $done
      (loop $more
        (local.set $r (call $read_body (i32.const 1) (local.get $off) (i32.const 4096)))
        (local.set $off (i32.add (local.get $off) (i32.wrap_i64 (local.get $r))))
        (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    ;; the first write replaces, the second appends
    (call $write_body (i32.const 1) (i32.const 0x150) (i32.const 10))
    (call $write_body (i32.const 1) (i32.const 0x1000) (i32.sub (local.get $off) (i32.const 0x1000)))))
