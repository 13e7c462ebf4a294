package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every language writes its files with the name filled in and its guest
// library copied; bad names, languages and non-empty directories are
// refused naming what is wrong. (That each one builds and serves is
// cmd/wasmcluster's TestNewBuildServeEveryLanguage.)
func TestNew(t *testing.T) {
	want := map[string][]string{
		"go":             {"README.md", "go.mod", "main.go"},
		"c":              {"README.md", "plugin.c", "wasmcluster.h"},
		"rust":           {"README.md", "http_handler.rs", "lib.rs"},
		"assemblyscript": {"README.md", "assembly/http_handler.ts", "assembly/index.ts", "package-lock.json", "package.json"},
		"wat":            {"README.md", "plugin.wat"},
	}
	if got := strings.Join(Langs(), ","); got != "assemblyscript,c,go,rust,wat" {
		t.Errorf("Langs() = %s", got)
	}
	for lang, files := range want {
		dir := filepath.Join(t.TempDir(), "my-plugin")
		got, err := New(dir, lang)
		if err != nil || strings.Join(got, ",") != strings.Join(files, ",") {
			t.Errorf("%s: %v, %v; want %v", lang, got, err, files)
			continue
		}
		readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		if n := strings.Count(strings.TrimSpace(string(readme)), "\n"); !strings.HasPrefix(string(readme), "# my-plugin\n") || n > 5 {
			t.Errorf("%s README:\n%s", lang, readme)
		}
		for _, f := range got {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if strings.Contains(string(b), "{{") {
				t.Errorf("%s/%s: template not executed", lang, f)
			}
		}
	}
	for _, tt := range []struct{ dir, lang, err string }{
		{"My Plugin", "c", `plugin name "My Plugin"`},
		{"p", "cobol", `--lang "cobol": want one of assemblyscript, c, go, rust, wat`},
	} {
		if _, err := New(filepath.Join(t.TempDir(), tt.dir), tt.lang); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("New(%q, %q): %v, want %q", tt.dir, tt.lang, err, tt.err)
		}
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	if _, err := New(full, "c"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty dir: %v", err)
	}
}
