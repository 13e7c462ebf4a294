// Package serve is `wasmcluster serve` without the command line: it wires
// the plugin file's life (plugins) to the process layer (workers) and the
// wasm host (host). The CLI maps flags and config onto Options, calls Run,
// and maps the returned error to an exit code; tests call Run directly.
//
// Run is a primary. It snapshots the plugin file, checks the snapshot
// (preflight compiles it once into the on-disk cache every process shares),
// binds the socket, and runs Options.Workers worker processes (one per
// usable CPU unless told), each started as this binary's hidden worker
// command, which calls RunWorker. A worker
// learns what to load from its workers.Spec: the snapshot's path, its
// SHA-256 as the version, and Options.Host as JSON (host.Config travels as
// it is; the worker adds its logger, its next handler and, for an
// uninterruptible guest, the exit on a stuck request). A version whose
// compiled code is cached already is checked while the first worker loads
// it (workers' Gate), so a warm start does not wait for the check.
//
// Snapshots go to Host.CacheDir/snapshots/<hash of the plugin path>, beside
// the compiled code and apart from it, so the pruner finds every plugin's
// store as a sibling of ours; with no cache directory, to a temporary
// directory removed when Run returns. Options.PluginRules bound what is
// read as the plugin, at start and on every swap.
//
// Hot swap: with Options.Watch, every content of the file that passes
// preflight is submitted as a roll (a newer one retargets a roll under
// way); a refused one is logged and shown in status while the old version
// keeps serving. For a version compiled before, the stager starts its
// first worker, held back, while the version is checked, so the check and
// that worker's load overlap. After each roll the swapper prunes the
// snapshots and compilation-cache entries no worker runs any more.
//
// With Workers == workers.InProcess the primary serves itself, and the
// plugin the preflight loaded is the one served (the handoff): each version
// is loaded once.
package serve
