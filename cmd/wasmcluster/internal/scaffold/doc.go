// Package scaffold writes a new plugin directory for `wasmcluster new`: a
// hello plugin per language that builds with `wasmcluster build` and
// serves with `wasmcluster serve` as it is, and a README of three lines.
//
// The templates are embedded (templates/<lang>/*.tmpl, text/template with
// the plugin's name); the guest library of the language (abi.
// GuestLibraries) is copied next to the sources, so the plugin builds
// outside this repository and offline. Go plugins use the raw ABI
// (go:wasmimport, go:wasmexport) with a go.mod without requirements: the
// SDK module may not be reachable from the user's machine, and a replace
// directive would point into a checkout the user does not have.
package scaffold
