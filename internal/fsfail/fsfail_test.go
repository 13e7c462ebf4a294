package fsfail_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/fsfail"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "write", Path: "/c/x", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("store: %w", &fs.PathError{Op: "open", Path: "/c", Err: syscall.EROFS}), true},
		{&fs.PathError{Op: "open", Path: "/c", Err: syscall.EACCES}, true},
		{syscall.EDQUOT, true},
		{os.ErrNotExist, false},
		{errors.New("corrupt entry"), false},
		{nil, false},
	} {
		if got := fsfail.Write(tc.err); got != tc.want {
			t.Errorf("Write(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
