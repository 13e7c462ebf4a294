package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const helloWAT = `(module (memory (export "memory") 1) (func (export "f") (result i32) (i32.const %d)))`

var wasmMagic = []byte("\x00asm\x01\x00\x00\x00")

// Each distinct source is compiled once; the same source from a file is
// the same build.
func TestWATOncePerSource(t *testing.T) {
	src1, src2 := fmt.Sprintf(helloWAT, 1), fmt.Sprintf(helloWAT, 2)
	before := guests.runs.Load()
	a := WAT(t, src1)
	if !bytes.HasPrefix(a, wasmMagic) {
		t.Fatalf("not a wasm module: %q", a)
	}
	if b := WAT(t, src1); !bytes.Equal(a, b) {
		t.Error("the same source gave different modules")
	}
	if got := guests.runs.Load() - before; got != 1 {
		t.Errorf("%d builds for one source twice, want 1", got)
	}
	if c := WAT(t, src2); bytes.Equal(a, c) {
		t.Error("two sources gave the same module")
	}
	path := filepath.Join(t.TempDir(), "one.wat")
	if err := os.WriteFile(path, []byte(src1), 0o644); err != nil {
		t.Fatal(err)
	}
	if f := WATFile(t, path); !bytes.Equal(a, f) {
		t.Error("a file with the same source gave a different module")
	}
	if got := guests.runs.Load() - before; got != 2 {
		t.Errorf("%d builds for two sources, want 2", got)
	}
}

// A Go package builds once per dir and flags, as a reactor or a command.
func TestGoWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests; skipped in -short")
	}
	before := guests.runs.Load()
	reactor := GoWasm(t, "testdata/empty")
	command := GoWasmCommand(t, "testdata/empty")
	stripped := GoWasm(t, "testdata/empty", "-ldflags=-s -w")
	for name, b := range map[string][]byte{"reactor": reactor, "command": command, "stripped": stripped} {
		if !bytes.HasPrefix(b, wasmMagic) {
			t.Errorf("%s: not a wasm module", name)
		}
	}
	if !bytes.Contains(reactor, []byte("_initialize")) || !bytes.Contains(command, []byte("_start")) {
		t.Error("the reactor lacks _initialize or the command lacks _start")
	}
	if len(stripped) >= len(reactor) {
		t.Errorf("-s -w did not reach the build: %d bytes stripped, %d not", len(stripped), len(reactor))
	}
	if again := GoWasm(t, "./testdata/empty/"); !bytes.Equal(again, reactor) {
		t.Error("the same package gave a different module")
	}
	if got := guests.runs.Load() - before; got != 3 {
		t.Errorf("%d builds, want 3 (reactor, command, stripped)", got)
	}
}

// memo runs one build per key, however many ask at once, and keeps an
// error like a result.
func TestMemo(t *testing.T) {
	var m memo[int]
	boom := errors.New("boom")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, want := "ok", error(nil)
			if i%2 == 1 {
				key, want = "bad", boom
			}
			v, err := m.get(key, func() (int, error) {
				if key == "bad" {
					return 0, boom
				}
				return 42, nil
			})
			if err != want || (err == nil && v != 42) {
				t.Errorf("get(%s) = %d, %v", key, v, err)
			}
		}()
	}
	wg.Wait()
	if got := m.runs.Load(); got != 2 {
		t.Errorf("%d builds for two keys, want 2", got)
	}
}

func TestTempFile(t *testing.T) {
	path := TempFile(t, "m.wasm", wasmMagic)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, wasmMagic) || filepath.Base(path) != "m.wasm" {
		t.Fatalf("TempFile wrote %q to %s (%v)", b, path, err)
	}
}

// Each body is a module of its own.
func TestHelloWAT(t *testing.T) {
	a, b := HelloWAT(t, "a"), HelloWAT(t, "b")
	if !bytes.HasPrefix(a, wasmMagic) || bytes.Equal(a, b) {
		t.Errorf("HelloWAT gave %q and %q; want two different modules", a, b)
	}
}

// A C dir builds once per dir and flags, as a reactor that includes
// wasmcluster.h, with the flags reaching clang.
func TestCWasm(t *testing.T) {
	before := guests.runs.Load()
	plain := CWasm(t, "testdata/c")
	extra := CWasm(t, "testdata/c", "-DWITH_EXTRA")
	for name, b := range map[string][]byte{"plain": plain, "extra": extra} {
		if !bytes.HasPrefix(b, wasmMagic) || !bytes.Contains(b, []byte("_initialize")) || !bytes.Contains(b, []byte("handle_request")) {
			t.Errorf("%s: not a reactor exporting handle_request: %q", name, b)
		}
	}
	if bytes.Contains(plain, []byte("extra")) || !bytes.Contains(extra, []byte("extra")) {
		t.Error("-DWITH_EXTRA did not reach the build")
	}
	if again := CWasm(t, "./testdata/c/"); !bytes.Equal(again, plain) {
		t.Error("the same dir gave a different module")
	}
	if got := guests.runs.Load() - before; got != 2 {
		t.Errorf("%d builds, want 2 (plain, extra)", got)
	}
}
