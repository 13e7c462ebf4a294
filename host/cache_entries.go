package host

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// wazero keeps a version's compiled code as <version dir>/<wazero dir>/<key>,
// <key> being 64 hex digits, and writes it through <key>.<random>.tmp and a
// rename. Each entry gets a record next to it, <key>.record, binding the
// entry to the module it was compiled from.
const (
	recordSuffix = ".record"
	tmpSuffix    = ".tmp"
)

// recordText is the content of an entry's record: the module's SHA-256 (the
// version), the entry's name and the SHA-256 of its bytes.
func recordText(module, entry string, sum []byte) []byte {
	return fmt.Appendf(nil, "wasmcluster compilation cache record v1\nmodule %s\nentry %s\nsha256 %x\n", module, entry, sum)
}

// cacheEntries lists every file wazero could load from versionDir: each
// file of each sub-directory but temp files and records. Every directory on
// the way must be private to uid. A symbolic link is refused, since wazero
// would follow it to code nobody checked.
func cacheEntries(versionDir string, uid int) ([]string, error) {
	subs, err := os.ReadDir(versionDir)
	if err != nil {
		return nil, fmt.Errorf("read compilation cache: %w", err)
	}
	var entries []string
	for _, s := range subs {
		sub := filepath.Join(versionDir, s.Name())
		switch {
		case s.Type()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%w: %s is a symbolic link: remove it", ErrUnsafeCache, sub)
		case !s.IsDir():
			continue // wazero reads no file at this level
		}
		if err := ensureDir(sub, uid, false); err != nil {
			return nil, err
		}
		files, err := os.ReadDir(sub)
		if err != nil {
			return nil, fmt.Errorf("read compilation cache: %w", err)
		}
		for _, f := range files {
			if name := f.Name(); !strings.HasSuffix(name, tmpSuffix) && !strings.HasSuffix(name, recordSuffix) {
				entries = append(entries, filepath.Join(sub, name))
			}
		}
	}
	return entries, nil
}

// verifyEntry checks entry against its record for module. It returns why
// the entry must not be loaded ("" when it may be), or an error when the
// entry or its record could be changed by another user.
func verifyEntry(entry, module string, uid int) (reason string, err error) {
	fi, err := os.Lstat(entry)
	if err != nil {
		return "", fmt.Errorf("compilation cache entry: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file", nil
	}
	if err := checkPrivate(entry, fi, uid); err != nil {
		return "", err
	}
	rec := entry + recordSuffix
	rfi, err := os.Lstat(rec)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no record of the module it was compiled from", nil
	case err != nil:
		return "", fmt.Errorf("compilation cache record: %w", err)
	case !rfi.Mode().IsRegular():
		return "its record is not a regular file", nil
	}
	if err := checkPrivate(rec, rfi, uid); err != nil {
		return "", err
	}
	want, err := os.ReadFile(rec)
	if err != nil {
		return "", fmt.Errorf("compilation cache record: %w", err)
	}
	sum, err := hashFile(entry)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(recordText(module, filepath.Base(entry), sum), want) {
		return "its content or module differs from its record", nil
	}
	return "", nil
}

// removeEntry removes entry and its record.
func removeEntry(entry string) error {
	err := os.RemoveAll(entry)
	if rerr := os.Remove(entry + recordSuffix); err == nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("remove compilation cache entry: %w", err)
	}
	return nil
}

// writeRecord records entry as compiled from module, atomically.
func writeRecord(entry, module string) error {
	sum, err := hashFile(entry)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(entry), filepath.Base(entry)+recordSuffix+".*"+tmpSuffix)
	if err != nil {
		return fmt.Errorf("write compilation cache record: %w", err)
	}
	_, err = f.Write(recordText(module, filepath.Base(entry), sum))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), entry+recordSuffix)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write compilation cache record: %w", err)
	}
	return nil
}

func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read compilation cache entry: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read compilation cache entry: %w", err)
	}
	return h.Sum(nil), nil
}
