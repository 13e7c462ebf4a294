package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultMaxSize is Rules.MaxSize when it is zero: far above any real
// plugin (a Go guest is a few MiB), far below what would hurt to hold.
const DefaultMaxSize = 256 << 20

// Rules say which files may be read as a plugin. The zero value is the
// strict default.
type Rules struct {
	// MaxSize caps the size of the file in bytes; a larger one is refused
	// before it is read. Zero means DefaultMaxSize.
	MaxSize int64

	// AllowInsecure accepts a plugin file that other users could replace
	// (see CheckOwnership); the caller should say so in its log.
	AllowInsecure bool
}

func (r Rules) maxSize() int64 {
	if r.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return r.MaxSize
}

// Errors for files that are not read as a plugin. Each is wrapped with
// the path and what to do about it.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
	ErrInsecure   = errors.New("writable by other users")
)

// readChunk is how much ReadFile reads between looks at its context.
const readChunk = 1 << 20

// ReadFile reads the plugin file at path under r: the file (after
// symlinks) must be a regular file no larger than r.MaxSize. Special files
// are refused before they are opened for reading, so a FIFO cannot block
// and /dev/zero cannot fill memory; the open is non-blocking besides, in
// case the path is swapped for a FIFO in between. The read stops when ctx
// ends. It does not check ownership: call CheckOwnership after it.
func ReadFile(ctx context.Context, path string, r Rules) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err // names the path
	}
	if err := checkRegular(path, st, r); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, r); err != nil {
		return nil, err
	}
	// The file may grow while it is read: read at most one byte past the
	// cap, so a file that outgrew it is refused rather than truncated.
	limit := r.maxSize()
	data := make([]byte, 0, min(st.Size(), limit)+1)
	src := io.LimitReader(f, limit+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		n, err := src.Read(data[len(data):min(cap(data), len(data)+readChunk)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grow; the cap bounds it
		}
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: it grew past the limit of %d bytes while read (raise plugin.max_size)", path, ErrTooLarge, limit)
	}
	return data, nil
}

// checkRegular refuses what is not a regular file within the size cap.
func checkRegular(path string, st fs.FileInfo, r Rules) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (it is %s); serve takes a .wasm file or a plugin source directory", path, ErrNotRegular, describeMode(st.Mode()))
	}
	if st.Size() > r.maxSize() {
		return fmt.Errorf("%s: %w: %d bytes, over the limit of %d bytes (raise plugin.max_size)", path, ErrTooLarge, st.Size(), r.maxSize())
	}
	return nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.String()
}

// CheckOwnership reports (wrapping ErrInsecure) a plugin that a user other
// than this process's, or root, could replace: a hot swap runs whatever
// lands at the path, so write access to it is code execution in the
// server. It checks the file and its directory, and, when the path is a
// symlink, every link on the way and the final file's directory. A
// directory with the sticky bit (/tmp) passes the write-bit test: others
// can add files there but not replace or rename ours, and a file they
// create at our path is theirs, which the owner test refuses.
func CheckOwnership(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	seen := map[string]bool{}
	for hops := 0; hops < 40; hops++ {
		if err := checkEntry(abs, seen); err != nil {
			return err
		}
		fi, err := os.Lstat(abs)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		target, err := os.Readlink(abs)
		if err != nil {
			return nil
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(abs), target)
		}
		abs = filepath.Clean(target)
	}
	// A link may also sit in a directory component (a ConfigMap's
	// "..data"): check where the bytes really are. Errors (a missing file,
	// a loop) are ReadFile's to report.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return checkEntry(real, seen)
	}
	return nil
}

// checkEntry checks the directory entry at path (the link itself, not its
// target) and the directory holding it.
func checkEntry(path string, seen map[string]bool) error {
	for _, p := range []string{filepath.Dir(path), path} {
		if seen[p] {
			continue
		}
		seen[p] = true
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if why := insecure(fi); why != "" {
			return fmt.Errorf("%s: %w: %s %s; anyone who can write it can replace the plugin and run code in this server (fix: %s, or set plugin.allow_insecure_path = true)",
				path, ErrInsecure, p, why, fixFor(p, fi))
		}
	}
	return nil
}

// insecure says why fi lets someone else change what it holds, or "".
func insecure(fi fs.FileInfo) string {
	if uid, ok := owner(fi); ok && uid != 0 && uid != os.Geteuid() {
		return fmt.Sprintf("is owned by uid %d, not by this server's uid %d or root", uid, os.Geteuid())
	}
	m := fi.Mode()
	if m&fs.ModeSymlink != 0 || m.Perm()&0o022 == 0 {
		return "" // a symlink's own mode means nothing
	}
	if m.IsDir() && m&fs.ModeSticky != 0 {
		return ""
	}
	return fmt.Sprintf("is writable by its group or others (mode %s)", m)
}

func fixFor(p string, fi fs.FileInfo) string {
	if uid, ok := owner(fi); ok && uid != 0 && uid != os.Geteuid() {
		return fmt.Sprintf("chown %d %s", os.Geteuid(), p)
	}
	return "chmod go-w " + p
}

// errRetry makes look try again: the file changed under the read.
var errRetry = errors.New("file changed while read")

// read checks the file against the Rules and reads it. A refusal is
// logged once per reason and counted; the version serving keeps serving.
func (w *Watcher) read(ctx context.Context) ([]byte, error) {
	data, err := ReadFile(ctx, w.path, w.opts.Rules)
	if err == nil {
		if err = CheckOwnership(w.path); err != nil && w.opts.Rules.AllowInsecure {
			w.opts.Logger.Warn("plugin file is writable by other users; reading it because plugin.allow_insecure_path is set", "path", w.path, "err", err)
			err = nil
		}
	}
	switch {
	case err == nil:
		w.refused = ""
		return data, nil
	case errors.Is(err, ErrNotRegular), errors.Is(err, ErrTooLarge), errors.Is(err, ErrInsecure):
		w.stats.refused.Add(1)
		if msg := err.Error(); msg != w.refused {
			w.opts.Logger.Warn("plugin file refused; the current version keeps serving", "path", w.path, "err", err)
			w.refused = msg
		}
		return nil, err
	case ctx.Err() != nil:
		return nil, err
	}
	return nil, errRetry // replaced between stat and open, say
}
