package host

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// The price of the mount check on an open: wazero's directory mount
// alone against the same mount behind jailFS (an os.Root resolution
// first), opening and closing a file two directories deep.
//
//	go test ./host -run '^$' -bench 'MountOpen' -benchtime 20000x -count 3
func BenchmarkMountOpen(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "page.html"), []byte("<p>hi</p>"), 0o644); err != nil {
		b.Fatal(err)
	}
	m, err := openMounts([]Mount{{HostDir: dir, GuestDir: "/t"}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.close()
	for _, bc := range []struct {
		name string
		fs   experimentalsys.FS
	}{
		{"wazero", &sysfs.ReadFS{FS: sysfs.DirFS(dir)}},
		{"osroot", &sysfs.AdaptFS{FS: m.roots[0].FS()}},
		{"jailed", &jailFS{inner: &sysfs.ReadFS{FS: sysfs.DirFS(dir)}, root: m.roots[0], readOnly: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				f, errno := bc.fs.OpenFile("a/b/page.html", experimentalsys.O_RDONLY, 0)
				if errno != 0 {
					b.Fatal(errno)
				}
				f.Close()
			}
		})
	}
}
