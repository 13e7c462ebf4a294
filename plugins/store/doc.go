// Package store keeps accepted plugin bytes in a content-addressed directory.
//
// Every snapshot is a file named "<sha256 hex>.wasm". It is written once,
// through a temporary file in the same directory that is fsynced and then
// renamed into place (and the directory fsynced), so a reader either sees the
// whole snapshot or none at all, even across a crash. Workers load a snapshot
// path, never the watched plugin path: the user can overwrite, truncate or
// delete the watched file at any moment without a worker ever reading a torn
// or foreign version.
//
// Because the name is the hash, a snapshot never changes once written; Put of
// bytes already present only refreshes the file's modification time, which is
// what Prune uses to decide which snapshots are the most recent. Prune keeps
// the newest N plus every hash the caller says is still in use, and removes
// the rest along with temporary files left behind by a crashed writer.
package store
