;; partial: reads the first 10 bytes of the request body WITHOUT
;; buffer_request, then proceeds to next, which gets the rest.
(module
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $got i32) (local $r i64)
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $got) (i32.const 10)))
      (local.set $r (call $read_body (i32.const 0) (local.get $got) (i32.sub (i32.const 10) (local.get $got))))
      (local.set $got (i32.add (local.get $got) (i32.wrap_i64 (local.get $r))))
      (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
      (br $more)))
    (i64.const 1)))
