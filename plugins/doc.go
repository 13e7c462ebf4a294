// Package plugins manages the life of the plugin file: it turns whatever
// the user does to plugin.wasm into a stream of validated, immutable
// versions for the worker supervisor to roll out.
//
// A Manager ties three parts, each a package of its own:
//
//   - watch: fsnotify on the plugin's directory, debounce, stability check,
//     SHA-256, one Change per new content (DESIGN.md §6);
//   - store: the content-addressed snapshot directory; accepted bytes are
//     copied there and workers load the snapshot path, never the watched
//     path, so a half-written or deleted plugin file never reaches a worker;
//   - preflight: compile (warming the shared compilation cache), check the
//     ABI, instantiate, initialize and optionally self-test the bytes, within
//     a time bound, in the primary, before any worker is touched.
//
// Every read of the plugin file (Load, Stage, Reload and the watcher's)
// goes through watch.ReadFile and watch.CheckOwnership under
// Options.Rules: only a regular file within the size cap, that no user but
// ours or root can replace, is read; reads stop with their context. A
// refusal at Load is an error; on a change it is a logged warning, and the
// version serving keeps serving.
//
// The flow is file → watch → hash → snapshot → preflight → Event. An Event is
// either accepted, carrying a Version {Hash, Path, Size, AcceptedAt} to roll
// out, or refused, carrying the hash and an error whose text says why (for
// logs and `wasmcluster status`). The old version keeps serving on a refusal,
// and on a deleted or emptied file, which produces no event at all.
//
// Usage by a supervisor (one goroutine owning the roll state):
//
//	m, _ := plugins.New(path, opts) // opts.StoreDir from StoreDirFor
//	v, err := m.Load(ctx) // first version; refuse to start on error
//	go m.Run(ctx)         // watch; events arrive on m.Events() (never closed)
//	select { case ev := <-m.Events(): if ev.Accepted() { roll(ev.Version) } ... }
//	m.Reload(ctx)         // SIGHUP / `wasmcluster reload`: check the file now
//	m.Prune(inUse...)     // after a roll: drop snapshots nobody runs
//
// Two hooks let a primary overlap a worker's start with the preflight:
// Stage is Load in two steps (snapshot now, decide later), and
// Options.OnStage reports each snapshot before its preflight starts. Either
// way a worker loading the snapshot early must not take traffic before the
// decision; preflight.Options.Keep hands the checked plugin itself to a
// process that serves in-process.
package plugins
