// Package gobuild turns a Go package directory into a wasmcluster plugin:
// it runs the Go toolchain with the flags a plugin needs
//
//	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -buildmode=c-shared -trimpath -ldflags='-s -w'
//
// stores the module in a content-addressed cache directory (file name =
// SHA-256 of the bytes, so two versions never share a path), and checks the
// result with CheckModule before anyone tries to serve it.
//
// Two mistakes are common enough to get their own errors: a module built
// without -buildmode=c-shared (a "command" whose _start runs main and exits,
// ErrCommandModule) and a module that does not export handle_request
// (ErrNoHandler, e.g. a package that never imports the guest SDK). Compiler
// failures come back as *BuildError carrying the compiler's output.
package gobuild
