// Command wasmcluster serves an HTTP handler compiled to WebAssembly (the
// http-wasm handler ABI) behind a real HTTP listener.
//
//	wasmcluster serve plugin.wasm --listen 127.0.0.1:8080 [--upstream URL] [--workers N]
//	wasmcluster status                     # the running instance's workers
//	wasmcluster reload [--wait]            # re-read the plugin and roll the workers
//	wasmcluster config [--config FILE]     # print the effective configuration
//	wasmcluster inspect plugin.wasm        # imports, exports, memory and grants
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
// serve.go turns the configuration into serve.Options (a host.Config, the
// workers' server and recycling settings, ...) and runs package
// internal/serve: preflight, the listening socket, a primary with one worker
// process per usable CPU, and hot swap. serve returns errors; serve.go maps
// them to exit codes (and re-raises a repeated stop signal). status, top and
// reload find the running instance's control socket the same way
// (control.go). grants.go resolves plugin.env and plugin.mounts into the
// host's grants (bare names from this process's environment; values never
// logged), and inspect.go describes a plugin against them (plugins/inspect).
package main
