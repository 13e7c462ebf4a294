package host

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnsafeCache marks a compilation cache that someone other than the
// server's user could write: code compiled into it would be run as the
// server, so it is refused rather than used.
var ErrUnsafeCache = errors.New("unsafe compilation cache")

// PruneCache removes the compilation-cache entries of plugin versions not in
// keep (hex SHA-256 hashes, as Plugin.Hash returns). Entries live in one
// sub-directory per version, so this never touches a version in keep, even
// while other processes use it. Anything in cacheDir that is not a version
// directory is left alone.
func PruneCache(cacheDir string, keep ...string) error {
	if cacheDir == "" {
		return nil
	}
	entries, err := os.ReadDir(cacheDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune compilation cache: %w", err)
	}
	keepSet := make(map[string]bool, len(keep))
	for _, k := range keep {
		keepSet[k] = true
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !isVersionHash(name) || keepSet[name] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(cacheDir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prune compilation cache: %w", err)
	}
	return nil
}

func isVersionHash(name string) bool {
	if len(name) != 64 {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}

// Cached reports whether cacheDir holds compiled code for the version hash
// (as Plugin.Hash returns), so loading it reads the cache instead of
// compiling. It is a hint: an entry compiled under other settings (memory
// limit, interrupt) counts too, and its content is checked only by the load.
func Cached(cacheDir, hash string) bool {
	if cacheDir == "" || !isVersionHash(hash) {
		return false
	}
	records, _ := filepath.Glob(filepath.Join(cacheDir, hash, "*", "*"+recordSuffix))
	for _, r := range records {
		if st, err := os.Stat(r[:len(r)-len(recordSuffix)]); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			return true
		}
	}
	return false
}

// ensureDir makes dir exist as a directory private to uid (created 0700 if
// missing). A symbolic link is followed only for the configured cache dir
// itself (follow), never inside it.
func ensureDir(dir string, uid int, follow bool) error {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create compilation cache directory: %w", err)
		}
		fi, err = stat(dir)
	}
	if err != nil {
		return fmt.Errorf("compilation cache directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (%v): remove it", ErrUnsafeCache, dir, fi.Mode().Type())
	}
	return checkPrivate(dir, fi, uid)
}
