;; an AssemblyScript-style guest: imports env.abort and calls it the way the
;; AssemblyScript runtime does, with UTF-16LE strings whose byte length is
;; the u32 just before them. The path's first letter picks the call:
;; /abort a good message, /bad pointers and lengths outside memory,
;; /null null strings; any other path answers "ok".
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)

  (data (i32.const 100) "\0c\00\00\00")                       ;; 12 bytes:
  (data (i32.const 104) "b\00o\00o\00m\00 \00\e9\00")         ;; "boom é"
  (data (i32.const 200) "\22\00\00\00")                       ;; 34 bytes:
  (data (i32.const 204) "a\00s\00s\00e\00m\00b\00l\00y\00/\00i\00n\00d\00e\00x\00.\00t\00s\00")
  (data (i32.const 300) "\ff\ff\ff\7f")                       ;; a length past memory
  (data (i32.const 400) "ok")

  (func (export "handle_request") (result i64)
    (local $c i32)
    (drop (call $get_uri (i32.const 500) (i32.const 64)))
    (local.set $c (i32.load8_u (i32.const 501)))
    (if (i32.eq (local.get $c) (i32.const 97)) ;; 'a'
      (then (call $abort (i32.const 104) (i32.const 204) (i32.const 42) (i32.const 7))))
    (if (i32.eq (local.get $c) (i32.const 98)) ;; 'b'
      (then (call $abort (i32.const 304) (i32.const 0xfffffff0) (i32.const 1) (i32.const 2))))
    (if (i32.eq (local.get $c) (i32.const 110)) ;; 'n'
      (then (call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
    (call $write_body (i32.const 1) (i32.const 400) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
