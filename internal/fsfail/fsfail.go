package fsfail

import (
	"errors"
	"io/fs"
	"syscall"
)

// Write reports whether err is the filesystem refusing a write: a full or
// read-only disk, a quota, a file too large, or a directory the process may
// not write.
func Write(err error) bool {
	for _, errno := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return errors.Is(err, fs.ErrPermission)
}
