package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPutGetRead(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "snaps"))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("\x00asm\x01\x00\x00\x00")
	snap, err := s.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Hash != Hash(data) || snap.Path != s.Path(snap.Hash) || snap.Size != int64(len(data)) {
		t.Fatalf("snapshot = %+v", snap)
	}
	got, err := ReadFile(snap.Path)
	if err != nil || string(got) != string(data) {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	st, err := os.Stat(snap.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o222 != 0 {
		t.Errorf("snapshot mode %v is writable", st.Mode())
	}
	if g, err := s.Get(snap.Hash); err != nil || g.Path != snap.Path {
		t.Fatalf("Get = %+v, %v", g, err)
	}
	if _, err := s.Get(Hash([]byte("other"))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get(missing) err = %v, want ErrNotExist", err)
	}
	if _, err := s.Get("../../etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get(bad name) err = %v, want ErrNotExist", err)
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Fatalf("store holds %d entries, want 1", len(entries))
	}
}

func TestPutRepairsCorruptSnapshot(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("good bytes")
	snap, err := s.Put(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(snap.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap.Path, []byte("bit rot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(snap.Path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadFile(corrupt) err = %v, want ErrCorrupt", err)
	}
	if _, err := s.Put(data); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(snap.Path); err != nil || string(got) != string(data) {
		t.Fatalf("after repair ReadFile = %q, %v", got, err)
	}
}

func TestPrune(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string // oldest first
	base := time.Now().Add(-time.Hour)
	for i := range 6 {
		snap, err := s.Put(fmt.Appendf(nil, "version %d", i))
		if err != nil {
			t.Fatal(err)
		}
		// Explicit mtimes: the order must not depend on timer resolution.
		mt := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(snap.Path, mt, mt); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, snap.Hash)
	}
	// A stale temporary from a crashed writer, and a fresh one being written.
	stale := filepath.Join(s.Dir(), tmpPrefix+"stale")
	fresh := filepath.Join(s.Dir(), tmpPrefix+"fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	// Keep the newest 2 (versions 5, 4) plus version 1 still in use.
	removed, err := s.Prune(2, hashes[1])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{hashes[0], hashes[2], hashes[3]}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, sn := range list {
		left = append(left, sn.Hash)
	}
	if !slices.Equal(left, []string{hashes[5], hashes[4], hashes[1]}) {
		t.Fatalf("left %v, want versions 5, 4, 1", left)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary not removed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary removed: %v", err)
	}

	// Put of an existing version makes it the newest again.
	if _, err := s.Put([]byte("version 1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(1); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List()
	if len(list) != 1 || list[0].Hash != hashes[1] {
		t.Fatalf("after re-Put and Prune(1): %+v, want only version 1", list)
	}
}
