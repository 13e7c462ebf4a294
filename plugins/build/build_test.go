package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func write(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDetect(t *testing.T) {
	pkg := `{"scripts":{"build":"asc assembly/index.ts --outFile build/plugin.wasm"}}`
	for _, tt := range []struct {
		files map[string]string
		kind  Kind
		err   string
	}{
		{map[string]string{"main.go": "package main", "Makefile": ""}, KindGo, ""},
		{map[string]string{"Cargo.toml": "", "lib.rs": ""}, KindCargo, ""},
		{map[string]string{"src/lib.rs": ""}, KindRust, ""},
		{map[string]string{"package.json": pkg}, KindAssemblyScript, ""},
		{map[string]string{"package.json": `{"scripts":{"build":"tsc"}}`}, "", `scripts.build "tsc" does not run asc`},
		{map[string]string{"package.json": `{"scripts":{"build":"asc a.ts"}}`}, "", "has no --outFile"},
		{map[string]string{"Makefile": "", "a.c": ""}, KindMake, ""},
		{map[string]string{"a.c": "", "a.h": ""}, KindC, ""},
		{map[string]string{"a.wat": ""}, KindWAT, ""},
		{map[string]string{"main.go": "", ManifestFile: "build = \"make x\"\noutput = \"out/x.wasm\"\n"}, KindManifest, ""},
		{map[string]string{ManifestFile: "build = \"make\"\n"}, "", `needs both build = "command" and output = "file.wasm"`},
		{map[string]string{ManifestFile: "build = make\n"}, "", `wasmcluster.toml:1: want key = "value", got "build = make"`},
		{map[string]string{ManifestFile: "build = \"x\"\noutput = \"../x.wasm\"\n"}, "", `output "../x.wasm" must be a path inside the project directory`},
		{map[string]string{"README.md": ""}, "", "no plugin project"},
	} {
		dir := write(t, t.TempDir(), tt.files)
		p, err := Detect(dir)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err %v, want %q", tt.files, err, tt.err)
			}
			continue
		}
		if err != nil || p.Kind != tt.kind {
			t.Errorf("%v: got %q, %v; want %q", tt.files, p.Kind, err, tt.kind)
		}
	}
	if p, _ := Detect(write(t, t.TempDir(), map[string]string{ManifestFile: "build = \"make x\"\noutput = \"out/x.wasm\"\n"})); p.Command != "make x" || p.Output != "out/x.wasm" {
		t.Errorf("manifest: %+v", p)
	}
}

// A C build that fails carries clang's message and the command; the
// header comes from the embedded library, so a lone .c file builds.
func TestBuildC(t *testing.T) {
	testkit.RequireC(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cache := t.TempDir()
	src := "#include \"wasmcluster.h\"\nuint64_t handle_request(void) { wc_set_status_code(204); return wc_ctx_next(0, 0); }\n"
	dir := write(t, t.TempDir(), map[string]string{"p.c": src})
	res, err := Build(ctx, dir, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(cache, res.Hash+".wasm") || res.Size == 0 {
		t.Errorf("result %+v", res)
	}
	write(t, dir, map[string]string{"p.c": src + "int x = ;\n"})
	_, err = Build(ctx, dir, Options{CacheDir: cache})
	var be *BuildError
	if !errors.As(err, &be) || be.Kind != KindC || !strings.Contains(be.Output, "p.c:3:9: error") {
		t.Fatalf("got %v", err)
	}
	// A module without handle_request is refused, saying so.
	write(t, dir, map[string]string{"p.c": "int f(void) { return 1; }\n"})
	if _, err = Build(ctx, dir, Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), `does not export "handle_request"`) {
		t.Errorf("no handle_request: %v", err)
	}
}

// Dev: an unchanged rebuild leaves Output alone, a changed one replaces
// it (and removes the build it superseded from the cache), a failed one
// leaves it and is in Status until a build succeeds.
func TestDevRebuild(t *testing.T) {
	testkit.Require(t, "wat2wasm")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wat := func(code int) string {
		return `(module (import "http_handler" "set_status_code" (func $s (param i32))) (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (call $s (i32.const ` + strconv.Itoa(code) + `)) (i64.const 0)))`
	}
	dir := write(t, t.TempDir(), map[string]string{"p.wat": wat(200)})
	cache, out := t.TempDir(), filepath.Join(t.TempDir(), "p.wasm")
	d, err := NewDev(dir, DevOptions{Build: Options{CacheDir: cache}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := d.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(out)
	if _, err := d.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(out); !os.SameFile(st1, st2) {
		t.Error("an unchanged rebuild replaced Output")
	}
	write(t, dir, map[string]string{"p.wat": wat(400)})
	r2, err := d.Rebuild(ctx)
	if err != nil || r2.Hash == r1.Hash {
		t.Fatalf("changed rebuild: %v, %s", err, r2.Hash)
	}
	if _, err := os.Stat(r1.Path); !os.IsNotExist(err) {
		t.Errorf("superseded build %s still in the cache: %v", r1.Path, err)
	}
	write(t, dir, map[string]string{"p.wat": "(module"})
	if _, err := d.Rebuild(ctx); err == nil {
		t.Fatal("broken source built")
	}
	if b, _ := os.ReadFile(out); len(b) != int(r2.Size) {
		t.Errorf("a failed build changed Output")
	}
	if s := d.Status(); s.Builds != 4 || s.Failures != 1 || !strings.Contains(s.LastError, "p.wat:") || s.Version != r2.Hash {
		t.Errorf("status %+v", s)
	}
}

func TestIsSource(t *testing.T) {
	d := &Dev{dir: "/p"}
	for path, want := range map[string]bool{
		"/p/main.go": true, "/p/go.mod": true, "/p/src/lib.rs": true, "/p/assembly/index.ts": true,
		"/p/Makefile": true, "/p/x.h": true, "/p/Cargo.lock": true,
		"/p/.main.go.swp": false, "/p/main.go~": false, "/p/4913": false, "/p/plugin.wasm": false,
		"/p/node_modules/a/b.ts": false, "/p/target/x.rs": false, "/p/build/plugin.wasm": false, "/p/.git/HEAD": false,
		"/other/main.go": false,
	} {
		if got := d.isSource(path, false); got != want {
			t.Errorf("isSource(%s) = %v, want %v", path, got, want)
		}
	}
	if !d.isSource("/p/notes.txt", true) || d.isSource("/p/notes.txt", false) {
		t.Error("with a manifest every file is a source, without one only source types")
	}
}

// Run rebuilds after a save, and Output gets the new module.
func TestDevRunRebuildsOnSave(t *testing.T) {
	testkit.Require(t, "wat2wasm")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mod := `(module (memory (export "memory") 1) (func (export "handle_request") (result i64) (i64.const %d)))`
	dir := write(t, t.TempDir(), map[string]string{"sub/keep": "", "p.wat": fmt.Sprintf(mod, 0)})
	out := filepath.Join(t.TempDir(), "p.wasm")
	d, err := NewDev(dir, DevOptions{Build: Options{CacheDir: t.TempDir()}, Output: out, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := d.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Run may not have added its watches yet: save until a build follows.
	testkit.WaitFor(t, time.Minute, "a rebuild after the save", func() bool {
		write(t, dir, map[string]string{"p.wat": fmt.Sprintf(mod, 1)})
		s := d.Status()
		return s.Version != "" && s.Version != r1.Hash
	})
	b, _ := os.ReadFile(out)
	if int64(len(b)) == 0 || d.Status().LastError != "" {
		t.Errorf("output %d bytes, status %+v", len(b), d.Status())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
