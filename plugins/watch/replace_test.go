package watch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins/store"
)

// TestReplacementMethods replaces the file in every way users do, each once
// with new content (detected exactly once) and once with the same content
// (not reported).
func TestReplacementMethods(t *testing.T) {
	methods := []struct {
		name    string
		replace func(t *testing.T, path string, data []byte)
	}{
		{"WriteFile", func(t *testing.T, path string, data []byte) { write(t, path, data) }},
		{"cp", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(t.TempDir(), "src")
			write(t, src, data)
			run(t, "cp", src, path)
		}},
		{"cat redirect", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(t.TempDir(), "src")
			write(t, src, data)
			run(t, "sh", "-c", `cat "$1" > "$2"`, "sh", src, path)
		}},
		{"rename in same dir", func(t *testing.T, path string, data []byte) {
			tmp := path + ".tmp"
			write(t, tmp, data)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"mv from elsewhere", func(t *testing.T, path string, data []byte) {
			src := filepath.Join(filepath.Dir(path), "..", "build-out")
			write(t, src, data)
			run(t, "mv", "-f", src, path)
		}},
		{"delete then create", func(t *testing.T, path string, data []byte) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			write(t, path, data)
		}},
	}
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "plugins")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "plugin.wasm")
			write(t, path, v(1))
			h := start(t, path, store.Hash(v(1)))

			m.replace(t, path, v(2))
			h.expect(v(2))
			h.quiet()
			h.exactlyOnce(1)

			m.replace(t, path, v(2)) // same bytes again
			h.quiet()
			h.exactlyOnce(1)

			m.replace(t, path, v(3))
			h.expect(v(3))
			h.quiet()
			h.exactlyOnce(2)
		})
	}
}

// TestConfigMapSymlinkFlip replays what the kubelet does: the file is a
// symlink through ..data, which is flipped atomically to a new directory,
// and the old directory is removed.
func TestConfigMapSymlinkFlip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	version := func(n int, data []byte) {
		ts := fmt.Sprintf("..2026_11_25_01_00_%02d.000000%d", n, n)
		if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, ts, "plugin.wasm"), data)
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(ts, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			prev := fmt.Sprintf("..2026_11_25_01_00_%02d.000000%d", n-1, n-1)
			if err := os.RemoveAll(filepath.Join(dir, prev)); err != nil {
				t.Fatal(err)
			}
		}
	}
	version(1, v(1))
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.Symlink(filepath.Join("..data", "plugin.wasm"), path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, store.Hash(v(1)))

	version(2, v(2))
	h.expect(v(2))
	h.quiet()
	version(3, v(3))
	h.expect(v(3))
	h.quiet()
	version(4, v(3)) // a flip to identical content is not a change
	h.quiet()
	h.exactlyOnce(2)
}

// TestSymlinkTargetWrittenInPlace covers a plugin path that is a symlink to a
// build output in another directory, rewritten in place there.
func TestSymlinkTargetWrittenInPlace(t *testing.T) {
	t.Parallel()
	build := t.TempDir()
	target := filepath.Join(build, "out.wasm")
	write(t, target, v(1))
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, store.Hash(v(1)))
	write(t, target, v(2))
	h.expect(v(2))
	h.quiet()
	h.exactlyOnce(1)
}

// TestGoBuildOutput: `go build -o plugin.wasm` straight into the watched
// path (the toolchain writes elsewhere, then moves or copies the result
// into place) is reported once per build.
func TestGoBuildOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain; skipped in -short")
	}
	t.Parallel()
	goTool := testkit.Require(t, "go")
	src := t.TempDir()
	write(t, filepath.Join(src, "go.mod"), []byte("module buildme\n\ngo 1.24\n"))
	write(t, filepath.Join(src, "main.go"), []byte("package main\n\nvar v string\n\nfunc main() { println(v) }\n"))
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	build := func(n int) []byte {
		t.Helper()
		cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-X main.v="+fmt.Sprint(n), "-o", path, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first := build(1)
	h := start(t, path, "")
	h.expect(first)
	second := build(2)
	h.expect(second)
	h.quiet()
	h.exactlyOnce(2)
}
