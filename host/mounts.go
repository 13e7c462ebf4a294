package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// Mount grants the guest a host directory as a WASI preopen. Read-only
// unless Writable.
type Mount struct {
	HostDir  string `json:"host_dir"`
	GuestDir string `json:"guest_dir"`
	Writable bool   `json:"writable,omitempty"`
}

// EnvVar is one variable of the guest's WASI environment.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// mounts holds the open roots of a plugin's mounts and the FSConfig every
// instance shares (nil when nothing is mounted).
type mounts struct {
	roots []*os.Root
	jails []*jailFS
	fs    wazero.FSConfig
}

// openMounts opens every mount's directory. A directory that is missing or
// not a directory is the operator's error, reported with its path.
func openMounts(ms []Mount) (*mounts, error) {
	m := &mounts{}
	if len(ms) == 0 {
		return m, nil
	}
	cfg := wazero.NewFSConfig()
	for _, mt := range ms {
		// The check (root) and the operations (inner) must see the same
		// directory: resolve a linked HostDir once, so repointing the link
		// later cannot split them. A new load sees the new target.
		dir, err := filepath.EvalSymlinks(mt.HostDir)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("mount %s: %w", mt.HostDir, err)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("mount %s: %w", mt.HostDir, err)
		}
		m.roots = append(m.roots, root)
		// A read-only mount opens through the os.Root itself, so a file
		// swapped for an escaping link between the check and the open is
		// still refused; a writable one needs wazero's directory mount
		// (an fs.FS cannot write), which follows links: the check alone
		// guards it.
		var inner experimentalsys.FS = sysfs.DirFS(dir)
		if !mt.Writable {
			inner = &sysfs.ReadFS{FS: &sysfs.AdaptFS{FS: root.FS()}}
		}
		j := &jailFS{inner: inner, root: root, readOnly: !mt.Writable}
		m.jails = append(m.jails, j)
		cfg = cfg.(sysfs.FSConfig).WithSysFSMount(j, mt.GuestDir)
	}
	m.fs = cfg
	return m, nil
}

func (m *mounts) close() {
	for _, r := range m.roots {
		r.Close()
	}
}

// jailFS keeps a mount's guest inside its directory. wazero's directory
// mount refuses lexical ".." escapes but follows symbolic links wherever
// they point; every path of a writable mount is resolved here through an
// os.Root first, which refuses any resolution (symbolic links included)
// that leaves the directory, and a read-only mount reads through the
// os.Root itself. The guest cannot create links, so a link that escapes
// can only be one placed from outside, and it is refused when used.
//
// A read-only mount answers every change with EROFS ("read-only file
// system"), which says why better than wazero's own ENOSYS.
type jailFS struct {
	inner    experimentalsys.FS
	root     *os.Root
	readOnly bool
}

// writes are the open flags that change the file system.
const writes = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_CREAT |
	experimentalsys.O_TRUNC | experimentalsys.O_APPEND | experimentalsys.O_EXCL

// change is check for an operation that modifies the file system.
func (j *jailFS) change(p string, follow bool) experimentalsys.Errno {
	if j.readOnly {
		return experimentalsys.EROFS
	}
	return j.check(p, follow)
}

// check refuses p unless it resolves inside the root. follow says whether
// the last element is followed (open, stat) or named (lstat, unlink,
// rename): then only its parent is resolved. A missing path is left to the
// inner FS, so the guest sees the usual ENOENT.
func (j *jailFS) check(p string, follow bool) experimentalsys.Errno {
	if p == "" {
		p = "."
	}
	if p = path.Clean(p); p != "." && !filepath.IsLocal(p) {
		return experimentalsys.EPERM // "..", absolute: lexically outside
	}
	target := p
	if !follow {
		target = path.Dir(p)
	}
	_, err := j.root.Stat(target)
	switch {
	case err == nil:
		return 0
	case !errors.Is(err, fs.ErrNotExist):
		return experimentalsys.EPERM // resolves outside the root
	case follow && j.isLink(target):
		return experimentalsys.EPERM // a dangling link: creating through it could land anywhere
	case j.parentInside(target):
		return 0
	}
	return experimentalsys.EPERM
}

func (j *jailFS) isLink(p string) bool {
	fi, err := j.root.Lstat(p)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// parentInside reports whether p's deepest existing ancestor resolves
// inside the root, so creating p cannot land outside it.
func (j *jailFS) parentInside(p string) bool {
	for p != "." && p != "/" {
		p = path.Dir(p)
		if _, err := j.root.Stat(p); err == nil {
			return true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// read runs op, an operation that changes nothing, on p. On a writable
// mount the check comes first. On a read-only mount the inner FS opens
// through the os.Root itself, which refuses escapes on its own, so the
// check only runs to explain a failure: the guest gets EPERM for an
// escape, as on a writable mount, instead of the root's EIO.
func (j *jailFS) read(p string, follow bool, op func() experimentalsys.Errno) experimentalsys.Errno {
	if !j.readOnly {
		if e := j.check(p, follow); e != 0 {
			return e
		}
		return op()
	}
	e := op()
	if e != 0 && e != experimentalsys.ENOENT {
		if ce := j.check(p, follow); ce != 0 {
			return ce
		}
	}
	return e
}

func (j *jailFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (f experimentalsys.File, e experimentalsys.Errno) {
	if flag&writes != 0 {
		if e := j.change(p, flag&experimentalsys.O_NOFOLLOW == 0); e != 0 {
			return nil, e
		}
		return j.inner.OpenFile(p, flag, perm)
	}
	e = j.read(p, flag&experimentalsys.O_NOFOLLOW == 0, func() experimentalsys.Errno {
		f, e = j.inner.OpenFile(p, flag, perm)
		return e
	})
	return f, e
}

func (j *jailFS) Lstat(p string) (st sys.Stat_t, e experimentalsys.Errno) {
	e = j.read(p, false, func() experimentalsys.Errno {
		st, e = j.inner.Lstat(p)
		return e
	})
	return st, e
}

func (j *jailFS) Stat(p string) (st sys.Stat_t, e experimentalsys.Errno) {
	e = j.read(p, true, func() experimentalsys.Errno {
		st, e = j.inner.Stat(p)
		return e
	})
	return st, e
}

func (j *jailFS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	if e := j.change(p, false); e != 0 {
		return e
	}
	return j.inner.Mkdir(p, perm)
}

func (j *jailFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if e := j.change(p, true); e != 0 {
		return e
	}
	return j.inner.Chmod(p, perm)
}

func (j *jailFS) Rename(from, to string) experimentalsys.Errno {
	if e := j.change(from, false); e != 0 {
		return e
	}
	if e := j.change(to, false); e != 0 {
		return e
	}
	return j.inner.Rename(from, to)
}

func (j *jailFS) Rmdir(p string) experimentalsys.Errno {
	if e := j.change(p, false); e != 0 {
		return e
	}
	return j.inner.Rmdir(p)
}

func (j *jailFS) Unlink(p string) experimentalsys.Errno {
	if e := j.change(p, false); e != 0 {
		return e
	}
	return j.inner.Unlink(p)
}

// Link is refused: a hard link made by the guest would outlive the grant
// in the host's directory for no use a plugin has.
func (j *jailFS) Link(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Symlink is refused: a link the guest makes could point out of the mount.
func (j *jailFS) Symlink(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

func (j *jailFS) Readlink(p string) (target string, e experimentalsys.Errno) {
	e = j.read(p, false, func() experimentalsys.Errno {
		target, e = j.inner.Readlink(p)
		return e
	})
	return target, e
}

func (j *jailFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	if e := j.change(p, true); e != 0 {
		return e
	}
	return j.inner.Utimens(p, atim, mtim)
}
