;; trailers (feature 4). The request header x-mode picks the behaviour:
;;  'g' guest answers: reads the request body to EOF, copies request trailer
;;      x-req-trailer into response header x-got-req-trailer, writes "body",
;;      then sets response trailer x-resp-trailer: rt. next=0.
;;  'n' next answers (features trailers|buffer_response): in handle_response
;;      copies next's response trailer x-next-trailer into response header
;;      x-saw-next-trailer and adds response trailer x-guest-trailer: gt.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "x-mode")              ;; 6
  (data (i32.const 0x110) "x-req-trailer")       ;; 13
  (data (i32.const 0x120) "x-got-req-trailer")   ;; 17
  (data (i32.const 0x140) "x-resp-trailer")      ;; 14
  (data (i32.const 0x150) "rt")
  (data (i32.const 0x160) "body")
  (data (i32.const 0x170) "x-next-trailer")      ;; 14
  (data (i32.const 0x180) "x-saw-next-trailer")  ;; 18
  (data (i32.const 0x1a0) "x-guest-trailer")     ;; 15
  (data (i32.const 0x1b0) "gt")
  ;; first byte of request header x-mode, 0 if absent
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  ;; copies the first value of header (kind, name) to header (dkind, dname);
  ;; nothing when absent
  (func $copy (param $kind i32) (param $name i32) (param $nlen i32)
              (param $dkind i32) (param $dname i32) (param $dnlen i32)
    (local $r i64) (local $len i32)
    (local.set $r (call $get_header_values (local.get $kind) (local.get $name) (local.get $nlen) (i32.const 0x2000) (i32.const 0x1000)))
    (if (i64.eqz (i64.shr_u (local.get $r) (i64.const 32))) (then (return)))
    (local.set $len (i32.wrap_i64 (local.get $r)))
    (if (i32.gt_u (local.get $len) (i32.const 0x1000)) (then unreachable))
    ;; the first value ends at the first NUL
    (local.set $len (i32.const 0))
    (block $end (loop $scan
      (br_if $end (i32.eqz (i32.load8_u (i32.add (i32.const 0x2000) (local.get $len)))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br $scan)))
    (call $set_header_value (local.get $dkind) (local.get $dname) (local.get $dnlen) (i32.const 0x2000) (local.get $len)))
  (func (export "handle_request") (result i64)
    (local $m i32)
    (local.set $m (call $mode))
    (if (i32.eq (local.get $m) (i32.const 0x6e)) ;; 'n'
      (then
        (drop (call $enable_features (i32.const 6)))
        (return (i64.const 1))))
    (drop (call $enable_features (i32.const 4)))
    (block $eof (loop $more
      (br_if $eof (i64.ne (i64.shr_u
        (call $read_body (i32.const 0) (i32.const 0x4000) (i32.const 0x4000)) (i64.const 32)) (i64.const 0)))
      (br $more)))
    (call $copy (i32.const 2) (i32.const 0x110) (i32.const 13) (i32.const 1) (i32.const 0x120) (i32.const 17))
    (call $write_body (i32.const 1) (i32.const 0x160) (i32.const 4))
    (call $set_header_value (i32.const 3) (i32.const 0x140) (i32.const 14) (i32.const 0x150) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)
    (call $copy (i32.const 3) (i32.const 0x170) (i32.const 14) (i32.const 1) (i32.const 0x180) (i32.const 18))
    (call $set_header_value (i32.const 3) (i32.const 0x1a0) (i32.const 15) (i32.const 0x1b0) (i32.const 2))))
