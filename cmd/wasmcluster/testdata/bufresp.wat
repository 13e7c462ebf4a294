;; bufresp: enables buffer_response and proceeds to next; handle_response
;; leaves next's captured response as it is. The host holds the whole
;; response between next and handle_response, the guest touches none of it.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (drop (call $enable_features (i32.const 2)))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
