package abi

import "embed"

// GuestLibraries holds the guest libraries for languages other than Go, as
// in the repository: c/wasmcluster.h, rust/http_handler.rs and
// assemblyscript/http_handler.ts. The builder puts the C header on the
// include path of C plugins, and `wasmcluster new` copies the library of
// its language into a new plugin, so a plugin outside this repository
// builds without a copy of it.
//
//go:embed c/wasmcluster.h rust/http_handler.rs assemblyscript/http_handler.ts
var GuestLibraries embed.FS
