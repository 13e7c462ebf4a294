package testkit

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size (as mount takes it: "256k", "1m") on a
// temp dir for the test and unmounts it when the test ends. It skips the
// test where mounting is not permitted (not root, or no CAP_SYS_ADMIN in
// a container), even under CI=true: that is the machine's policy, not a
// missing tool.
func Tmpfs(tb testing.TB, size string) string {
	tb.Helper()
	mnt := tb.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		tb.Skipf("cannot mount a tmpfs here (uid %d): %v", os.Getuid(), err)
	}
	tb.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// FullDir is an empty directory on a small tmpfs filled to the last byte:
// creating a file there works (tmpfs counts inodes apart), writing to it
// fails with ENOSPC.
func FullDir(tb testing.TB) string {
	tb.Helper()
	mnt := Tmpfs(tb, "256k")
	dir := filepath.Join(mnt, "dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for err == nil {
		_, err = f.Write(block)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		tb.Fatalf("filling the tmpfs: %v", err)
	}
	return dir
}

// ReadOnly makes dir a read-only bind mount of itself until the test ends
// (writes fail with EROFS, whoever runs the test). Like Tmpfs, it skips
// where mounting is not permitted.
func ReadOnly(tb testing.TB, dir string) {
	tb.Helper()
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		tb.Skipf("cannot bind-mount here (uid %d): %v", os.Getuid(), err)
	}
	tb.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		tb.Fatalf("remount %s read-only: %v", dir, err)
	}
}
