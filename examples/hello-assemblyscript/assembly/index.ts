// hello, in AssemblyScript: three routes over the http-wasm handler ABI.
import { header, respond, uri } from "../../../abi/assemblyscript/http_handler";

// handle_request() -> i64: ctx<<32 | next; respond() returns "answered".
export function handle_request(): u64 {
  const path = uri();
  if (path == "/") {
    return respond(200, "hello from assemblyscript\n");
  }
  if (path == "/greet") {
    const name = header("x-name");
    return respond(200, "hello, " + (name.length > 0 ? name : "stranger") + "\n");
  }
  if (path == "/fail") {
    // A failed assert calls env.abort: this request gets a 500 and the
    // message, file, line and column go to the server's log.
    assert(path.length == 0, "the /fail route always fails");
  }
  return respond(404, "not found\n");
}

// handle_response(req_ctx, is_error): never called, next is never used.
export function handle_response(req_ctx: u32, is_error: u32): void {}
