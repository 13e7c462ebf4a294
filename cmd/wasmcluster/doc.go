// Command wasmcluster serves an HTTP handler compiled to WebAssembly (the
// http-wasm handler ABI) behind a real HTTP listener.
//
//	wasmcluster serve plugin.wasm --listen 127.0.0.1:8080 [--upstream URL]
//	wasmcluster config [--config FILE]     # print the effective configuration
//	wasmcluster version
//
// main is only os.Exit(run(...)): run builds the cobra commands around one
// viper instance, and maps the outcome to an exit code: 0 clean stop, 1 a
// runtime failure (e.g. the plugin was refused at load), 2 a usage or
// configuration error.
//
// Configuration (package internal/config) comes from flags, WASMCLUSTER_*
// environment variables, a TOML file (--config or WASMCLUSTER_CONFIG) and
// defaults, in that order of precedence; config.toml at the repository root
// documents every key. Nothing below cmd sees viper: serve hands plain structs
// (host.Config, http.Server fields) to the packages it uses.
//
// serve.go owns what "serving" means (today the plugin host in this
// process); listen.go creates the listener separately so a process layer can
// replace the serving while keeping the same socket handling.
package main
