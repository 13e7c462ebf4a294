// Package fsfail tells a filesystem that refuses a write (full, read-only,
// over quota, not ours to write) from other errors. The compilation cache
// and the snapshot store are both on disk for speed or safety, not
// correctness: on such a failure each falls back (compile in memory, keep
// snapshots in a temporary directory) instead of refusing to serve.
package fsfail
