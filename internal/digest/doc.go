// Package digest holds the one way the project shortens a content hash for
// people: the first 12 hex characters of a SHA-256, as in log attributes,
// error messages and status output.
//
// Twelve hex characters (48 bits) keep versions apart in a store of any
// realistic size while fitting in a table column; every place that shows a
// version uses Short, so a hash in a log line can be matched with the same
// hash in `wasmcluster status` or a reload message by eye or by grep.
//
// The package is stdlib-only and imports nothing of the module, so every
// layer may use it (DESIGN.md §2).
package digest
