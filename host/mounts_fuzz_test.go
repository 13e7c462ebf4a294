package host

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMountCheck: whatever path a guest sends, a path the mount check lets
// through resolves inside the mount on the host (following every link),
// or, when it does not exist yet, its deepest existing ancestor does.
//
//	go test ./host -run '^$' -fuzz FuzzMountCheck -fuzztime 30s
func FuzzMountCheck(f *testing.F) {
	root := f.TempDir()
	mnt, outside := filepath.Join(root, "mnt"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(mnt, "sub", "deep"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	for _, l := range [][2]string{
		{outside, "dirlink"}, {"../outside", "rellink"}, {"sub", "inlink"}, {"../../outside", "sub/up"},
		{"/etc/passwd", "abslink"}, {filepath.Join(outside, "nothere"), "dangling"}, {"loop", "loop"},
	} {
		if err := os.Symlink(l[0], filepath.Join(mnt, l[1])); err != nil {
			f.Fatal(err)
		}
	}
	m, err := openMounts([]Mount{{HostDir: mnt, GuestDir: "/m", Writable: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(m.close)
	j := m.jails[0]
	for _, p := range []string{"a", "sub/deep/x", "dirlink/x", "rellink", "inlink/deep", "sub/up/x", "abslink",
		"dangling", "loop/x", "../x", "sub/../../x", "/etc", ".", "", "sub/./deep/../deep", "inlink/../dirlink"} {
		f.Add(p, true)
		f.Add(p, false)
	}
	real, err := filepath.EvalSymlinks(mnt)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string, follow bool) {
		if j.check(p, follow) != 0 {
			return
		}
		q := path.Clean("./" + p) // as the inner FS joins it to the directory
		if !follow {
			q = path.Dir(q)
		}
		target := filepath.Join(real, filepath.FromSlash(q))
		if !strings.HasPrefix(target+"/", real+"/") {
			t.Fatalf("check(%q, %v) passed a path lexically outside the mount", p, follow)
		}
		resolved := deepestResolved(target)
		if resolved != real && !strings.HasPrefix(resolved, real+"/") {
			t.Fatalf("check(%q, %v) passed; on the host it resolves to %s, outside %s", p, follow, resolved, real)
		}
	})
}

// deepestResolved is p with links resolved, or, when p does not exist,
// its deepest existing ancestor's.
func deepestResolved(p string) string {
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}
