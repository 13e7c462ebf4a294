// Command wasmcluster serves an HTTP handler compiled to WebAssembly (the
// http-wasm handler ABI) behind a real HTTP listener.
//
//	wasmcluster serve plugin.wasm --listen 127.0.0.1:8080 [--upstream URL] [--workers N]
//	wasmcluster status                     # the running instance's workers
//	wasmcluster reload [--wait]            # re-read the plugin and roll the workers
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
// serve.go turns the configuration into a host.Config and hands it to the
// process layer (processes.go over package workers: a primary, one worker
// process per usable CPU); listen.go creates the listening socket, which the
// primary owns and every worker inherits.
package main
