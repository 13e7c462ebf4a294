package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/wasmcluster/wasmcluster/abi"
)

//go:embed templates
var templates embed.FS

// libraries maps a language to its guest library (in abi.GuestLibraries)
// and where the new plugin keeps its copy.
var libraries = map[string][2]string{
	"c":              {"c/wasmcluster.h", "wasmcluster.h"},
	"rust":           {"rust/http_handler.rs", "http_handler.rs"},
	"assemblyscript": {"assemblyscript/http_handler.ts", "assembly/http_handler.ts"},
}

// Langs lists the languages New knows, sorted.
func Langs() []string {
	entries, _ := fs.ReadDir(templates, "templates")
	var langs []string
	for _, e := range entries {
		langs = append(langs, e.Name())
	}
	sort.Strings(langs)
	return langs
}

// validName is a name that is a Go module path, an npm package name and a
// file name at once.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// New creates dir (which must not exist, or be empty) holding a hello
// plugin in lang named after dir's last element, and returns the files
// written, relative to dir.
func New(dir, lang string) ([]string, error) {
	name := filepath.Base(filepath.Clean(dir))
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("plugin name %q: use lowercase letters, digits, '.', '-' and '_', starting with a letter or digit", name)
	}
	root := path.Join("templates", lang)
	if _, err := fs.Stat(templates, root); err != nil {
		return nil, fmt.Errorf("--lang %q: want one of %s", lang, strings.Join(Langs(), ", "))
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", dir)
	}
	files := map[string][]byte{}
	err := fs.WalkDir(templates, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := render(p, name)
		files[strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	if lib, ok := libraries[lang]; ok {
		if files[lib[1]], err = fs.ReadFile(abi.GuestLibraries, lib[0]); err != nil {
			return nil, err
		}
	}
	return write(dir, files)
}

// render executes one template with the plugin's name.
func render(p, name string) ([]byte, error) {
	src, err := fs.ReadFile(templates, p)
	if err != nil {
		return nil, err
	}
	t, err := template.New(path.Base(p)).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", p, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Name string }{name}); err != nil {
		return nil, fmt.Errorf("template %s: %w", p, err)
	}
	return b.Bytes(), nil
}

func write(dir string, files map[string][]byte) ([]string, error) {
	var names []string
	for rel, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		names = append(names, rel)
	}
	sort.Strings(names)
	return names, nil
}
