// Package preflight decides whether a plugin version may take traffic,
// before any worker is touched.
//
// Check runs, inside the calling process and within one time bound, what a
// worker would do with the bytes: compile them (warming the shared on-disk
// compilation cache, so workers then start in milliseconds), check the
// http-wasm exports, imports and signatures, instantiate, and run
// _initialize (or _start). When a self-test path is configured it then sends
// one GET through the plugin and refuses a 5xx answer; during the self-test
// the plugin's "next" is a local stub, so a down upstream never blocks a
// deploy.
//
// The time bound matters: a guest whose _initialize never returns would
// otherwise hang the deploy. The host runs guests with wazero's
// close-on-context-done, so the deadline interrupts guest code.
//
// A refusal is an *Error whose text says which stage failed and why, in
// words fit for `wasmcluster status`; a refused self-test names the
// guest's error (a trap, a timeout), which the host logs rather than
// sending to the client.
//
// [SelfTest] is the one definition of a plugin that answers: the check
// uses it, and so does every worker that loads a version to serve it, so
// the two cannot disagree. No request is sent without a path: a
// synthetic request may have side effects. [IsSelfTest] lets a next
// handler answer the self-test locally.
package preflight
