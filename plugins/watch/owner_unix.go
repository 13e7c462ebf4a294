//go:build unix

package watch

import (
	"io/fs"
	"syscall"
)

// owner returns the uid owning fi's file.
func owner(fi fs.FileInfo) (uid int, ok bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
