package host

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// The price of the mount check on an open, opening and closing a file two
// directories deep: wazero's read-only directory mount alone (no escape
// check: it follows links out), a read-only mount as served (the check,
// then the open through the os.Root), a writable one as served (the
// check, then wazero's mount). cpu-ns/op is the process's CPU time per
// open (getrusage), steadier than ns/op on a shared machine.
//
//	go test ./host -run '^$' -bench 'MountOpen' -benchtime 20000x -count 5
func BenchmarkMountOpen(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "page.html"), []byte("<p>hi</p>"), 0o644); err != nil {
		b.Fatal(err)
	}
	ro, err := openMounts([]Mount{{HostDir: dir, GuestDir: "/t"}})
	if err != nil {
		b.Fatal(err)
	}
	defer ro.close()
	rw, err := openMounts([]Mount{{HostDir: dir, GuestDir: "/t", Writable: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer rw.close()
	for _, bc := range []struct {
		name string
		fs   experimentalsys.FS
	}{
		{"wazero", &sysfs.ReadFS{FS: sysfs.DirFS(dir)}},
		{"served-ro", jailOf(ro)},
		{"served-rw", jailOf(rw)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				f, errno := bc.fs.OpenFile("a/b/page.html", experimentalsys.O_RDONLY, 0)
				if errno != 0 {
					b.Fatal(errno)
				}
				f.Close()
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// jailOf is the jailFS openMounts built for m's only mount.
func jailOf(m *mounts) experimentalsys.FS { return m.jails[0] }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
