//go:build unix

package watch

import (
	"io/fs"
	"syscall"
)

// inode returns the device and inode numbers, so a file replaced by another
// of the same size and mtime still counts as changed.
func inode(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}
