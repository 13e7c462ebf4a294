package host_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// swapGuest answers 5 bytes of its data segment from offset %d. Two
// modules built from it differ only in an immediate of handle_request, so
// the compiled code of one runs "fine" in the other's module: the data is
// the same, only the answer tells which code ran.
const swapGuest = `(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "AAAAABBBBB")
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const %d) (i32.const 5))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))`

// versionFiles lists the files of one version's cache entries, relative to
// its directory (<cache>/<sha256>).
func versionFiles(t *testing.T, cacheDir, hash string) map[string][]byte {
	t.Helper()
	root := filepath.Join(cacheDir, hash)
	out := map[string][]byte{}
	for path, b := range cacheFiles(t, root) {
		rel, err := filepath.Rel(root, path)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = b
	}
	return out
}

// isEntry reports whether rel names a compiled module as wazero does: 64
// hex digits.
func isEntry(rel string) bool {
	base := filepath.Base(rel)
	return len(base) == 64 && strings.Trim(base, "0123456789abcdef") == ""
}

// entryOf returns the one entry among files.
func entryOf(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var entries []string
	for rel := range files {
		if isEntry(rel) {
			entries = append(entries, rel)
		}
	}
	if len(entries) != 1 {
		t.Fatalf("want one wazero entry, have %v", entries)
	}
	return entries[0]
}

// TestCacheEntrySwap: B's compiled code copied over A's entry (alone, or
// with every file B's version directory holds for it, renamed to A's entry)
// is never run when A loads: A answers with A's code, the swap is logged,
// and the cache left behind serves A again without a warning.
func TestCacheEntrySwap(t *testing.T) {
	wasmA, wasmB := testkit.WAT(t, fmt.Sprintf(swapGuest, 0)), testkit.WAT(t, fmt.Sprintf(swapGuest, 5))
	for _, withRecords := range []bool{false, true} {
		t.Run(fmt.Sprintf("records=%v", withRecords), func(t *testing.T) {
			dir := t.TempDir()
			cfg := host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()}
			a := newPlugin(t, wasmA, cfg)
			wantResponse(t, serve(t, a, get("/")), http.StatusOK, "AAAAA")
			b := newPlugin(t, wasmB, cfg)
			wantResponse(t, serve(t, b, get("/")), http.StatusOK, "BBBBB")

			filesA, filesB := versionFiles(t, dir, a.Hash()), versionFiles(t, dir, b.Hash())
			keyA, keyB := entryOf(t, filesA), entryOf(t, filesB)
			if keyA == keyB {
				t.Fatalf("A and B share the entry %s", keyA)
			}
			for rel, content := range filesB {
				if !strings.HasPrefix(rel, keyB) || (!withRecords && rel != keyB) {
					continue
				}
				dst := filepath.Join(dir, a.Hash(), keyA+strings.TrimPrefix(rel, keyB))
				if err := os.WriteFile(dst, content, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			log, sink := captureLogger(0)
			cfg.Logger = log
			swapped := newPlugin(t, wasmA, cfg)
			wantResponse(t, serve(t, swapped, get("/")), http.StatusOK, "AAAAA")
			if len(sink.find("does not match")) == 0 {
				t.Errorf("the swapped entry was not reported; logs: %v", sink.all())
			}
			log, sink = captureLogger(0)
			cfg.Logger = log
			again := newPlugin(t, wasmA, cfg)
			wantResponse(t, serve(t, again, get("/")), http.StatusOK, "AAAAA")
			if w := sink.find("compilation cache"); len(w) != 0 {
				t.Errorf("the repaired cache still warns: %v", w)
			}
		})
	}
}

// TestCacheDirUnsafeModes: a cache directory, version directory or entry
// that another user could write is refused with an error naming the path
// and the fix; nothing is compiled into or loaded from it.
func TestCacheDirUnsafeModes(t *testing.T) {
	wasm := wat(t, "hello")
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir, hash string) string // returns the path that must be named
	}{
		{"cache dir 0777", func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o777); return dir }},
		{"cache dir group-writable", func(t *testing.T, dir, _ string) string { chmod(t, dir, 0o770); return dir }},
		{"version dir 0757", func(t *testing.T, dir, hash string) string {
			p := filepath.Join(dir, hash)
			chmod(t, p, 0o757)
			return p
		}},
		{"entry 0666", func(t *testing.T, dir, hash string) string {
			entry := filepath.Join(dir, hash, entryOf(t, versionFiles(t, dir, hash)))
			chmod(t, entry, 0o666)
			return entry
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			cfg := host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()}
			p := newPlugin(t, wasm, cfg) // a sane cache first
			bad := tc.spoil(t, dir, p.Hash())
			_, err := host.New(context.Background(), wasm, cfg)
			wantUnsafeCache(t, err, bad)
		})
	}
}

// TestCacheDirOtherOwner: a cache directory owned by another user is
// refused. Only root can hand a directory to another uid; elsewhere the
// internal test of the check covers it with a stat stub.
func TestCacheDirOtherOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("cannot chown here (uid %d): %v", os.Getuid(), err)
		}
		t.Fatal(err)
	}
	_, err := host.New(context.Background(), wat(t, "hello"), host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()})
	wantUnsafeCache(t, err, dir)
	if err != nil && !strings.Contains(err.Error(), "uid 4242") {
		t.Errorf("error %q does not name the owner", err)
	}
}

func wantUnsafeCache(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("New accepted an unsafe cache (%s)", path)
	}
	if !errors.Is(err, host.ErrUnsafeCache) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q: want ErrUnsafeCache naming %s", err, path)
	}
	if !strings.Contains(err.Error(), "chmod") && !strings.Contains(err.Error(), "chown") {
		t.Errorf("error %q does not say how to fix it", err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
