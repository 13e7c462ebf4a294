// Package testkit is the one set of test helpers every package's tests
// share: what a test needs to build guests, run the wasmcluster binary and
// put a server under load, written once. Only tests import it, directly or
// through test helper packages (deps_test.go checks that), and it imports
// nothing but the standard library, so the tests of every layer, abi
// included, can use it without an import cycle.
//
// Tools. A test that needs an external tool calls Require, which returns
// its path or, when it is missing, skips the test with the Debian package
// to install; under CI=true it fails instead, so CI never passes by
// skipping. The builders below call Require themselves.
//
// Guests. WAT and WATFile compile WebAssembly text with wat2wasm; GoWasm
// builds a Go main package as a plugin (GOOS=wasip1 GOARCH=wasm,
// -buildmode=c-shared, -trimpath) and GoWasmCommand as a WASI command; CWasm
// compiles a directory of C files with clang and wasi-libc as a WASI reactor,
// with abi/c (wasmcluster.h) on the include path. No .wasm file is committed:
// each guest is built from source on first use, in a temp dir removed right
// after, and its bytes are kept for the rest of the test binary's life, keyed
// by their input (the source text; the directory and flags). A failed build is
// remembered too, so each test that needs the guest fails at once with the
// same message. HelloWAT is the smallest guest that serves, one distinct
// module per body, for tests that need several good versions of a plugin.
// TempFile puts bytes in a file for commands that take a path; SocketDir gives
// a directory short enough for unix socket paths.
//
// The binary. Wasmcluster builds ./cmd/wasmcluster once per test binary
// (and set of build flags) into the run directory, which Main removes
// after the tests: a package using it calls testkit.Main(m) from TestMain.
// Env gives a child process an environment free of the developer's
// WASMCLUSTER_* settings, with its caches in the run directory. Start runs
// `wasmcluster serve --log-format json ...` and returns once it logs its
// "serving" record, with the address it serves, its log in a Buffer and
// methods to signal, stop and wait for it; the process gets its own
// process group, and when the test ends it is sent SIGTERM and then its
// group is killed, so no worker outlives the test. Launch does the same
// without waiting for the record, and Run runs a command to completion.
// StartFunc is Start for a server in the test's own process (a primary
// run in-process): it waits until the server is ready and cancels it when
// the test ends.
//
// Waiting and load. WaitFor and Eventually poll a condition until a
// deadline and fail with a message saying what was awaited; deadlines
// bound hung tests and are never assertions about speed. StartLoad runs
// strict HTTP clients: every request has a body without GetBody
// (StrictRequest), so net/http never silently retries it on a reused
// connection, and every EOF, reset, refusal and non-2xx answer is counted;
// a Check judges the 2xx answers (which version served, and when).
//
// Sockets and filesystems. RawStatus sends bytes as they are over TCP and
// returns the answer's status line, reading while it writes, for requests
// net/http will not send (a malformed chunked body) and answers that come
// before the request is whole. StaleSocket leaves a unix socket file no
// one listens on, as a killed server does. On Linux, Tmpfs mounts a small
// tmpfs for the test (skipping where mounting is not permitted) and
// FullDir is a directory on one filled to the last byte.
//
// TLS. NewCA makes a certificate authority for one test (ECDSA P-256, in
// memory); its Leaf signs a server pair for given names with a fresh
// serial number, WriteLeaf writes one as NAME.pem and NAME.key (renamed
// over what was there, as certificate tools do), ClientConfig trusts only
// the CA, and TLSServing reports the serial a new connection is served.
// LoadOptions.TLS and HTTP2 put an https server under strict load.
//
// WebSockets are in the wstest package below this one, which may import
// a WebSocket library; testkit itself stays stdlib-only.
package testkit
