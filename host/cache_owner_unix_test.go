//go:build unix

package host

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ownedBy is a directory's FileInfo with its owner replaced: the one way to
// give checkPrivate a file of another user without being root.
type ownedBy struct {
	fs.FileInfo
	uid uint32
}

func (o ownedBy) Sys() any {
	st := *o.FileInfo.Sys().(*syscall.Stat_t)
	st.Uid = o.uid
	return &st
}

// TestCheckPrivateOwner: a cache path owned by another uid is refused with
// ErrUnsafeCache, naming the path, both uids and the fix; the server's own
// is accepted.
func TestCheckPrivateOwner(t *testing.T) {
	dir := t.TempDir()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	self := uint32(os.Geteuid())
	if err := checkPrivate(dir, ownedBy{fi, self}, int(self)); err != nil {
		t.Errorf("own directory refused: %v", err)
	}
	other := self + 4242
	err = checkPrivate(dir, ownedBy{fi, other}, int(self))
	if !errors.Is(err, ErrUnsafeCache) {
		t.Fatalf("directory of uid %d accepted by uid %d: %v", other, self, err)
	}
	for _, want := range []string{dir, "uid " + itoa(other), "uid " + itoa(self), "chown"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }
