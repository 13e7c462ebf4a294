package testkit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FullDir is on a full filesystem, and the tmpfs under it is gone once
// the test that mounted it ends.
func TestFullDir(t *testing.T) {
	var dir string
	t.Run("mount", func(t *testing.T) {
		dir = FullDir(t)
		err := os.WriteFile(filepath.Join(dir, "x"), make([]byte, 4096), 0o600)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("writing into FullDir: %v, want ENOSPC", err)
		}
	})
	if dir == "" {
		t.Skip("no tmpfs mounted")
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if mnt := filepath.Dir(dir); strings.Contains(string(mounts), " "+mnt+" ") {
		t.Errorf("%s is still mounted after its test", mnt)
	}
}
