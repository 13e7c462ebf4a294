//! hello-rust: a plugin in Rust without std. "/" answers hello, "/agent"
//! echoes the client's User-Agent header, anything else is a 404; the guest
//! answers every request itself and never calls next.
#![no_std]

#[path = "../../abi/rust/http_handler.rs"]
mod http_handler;

use http_handler::{ctx_next, request_header, respond, write, write_str, Error};

// One request runs at a time in an instance, so static buffers are safe.
static mut PATH: [u8; 2048] = [0; 2048];
static mut AGENT: [u8; 512] = [0; 512];

#[no_mangle]
pub extern "C" fn handle_request() -> u64 {
    let path = match http_handler::path(unsafe { &mut PATH }) {
        Ok(p) => p,
        Err(_) => return respond(414, "URI too long\n"),
    };
    match path {
        b"/" => respond(200, "hello from rust\n"),
        b"/agent" => echo_agent(),
        _ => respond(404, "not found\n"),
    }
}

fn echo_agent() -> u64 {
    match request_header("user-agent", unsafe { &mut AGENT }) {
        Err(Error::Absent) => respond(400, "no User-Agent header\n"),
        Err(Error::TooLong(_)) => respond(431, "User-Agent too long\n"),
        Ok(agent) => {
            respond(200, "your user-agent: ");
            write(agent); // later writes append
            write_str("\n");
            ctx_next(0, false)
        }
    }
}

// Without std a panic has nowhere to go: trap, and the host answers 500.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
