package host

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

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
// limit, interrupt) counts too.
func Cached(cacheDir, hash string) bool {
	if cacheDir == "" || !isVersionHash(hash) {
		return false
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, hash, "*", "*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			return true
		}
	}
	return false
}
