package build

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Kind is how a project builds.
type Kind string

const (
	KindManifest       Kind = "manifest"       // wasmcluster.toml's build command
	KindGo             Kind = "go"             // a Go main package
	KindCargo          Kind = "cargo"          // Cargo.toml
	KindRust           Kind = "rust"           // lib.rs or src/lib.rs without Cargo.toml
	KindAssemblyScript Kind = "assemblyscript" // package.json with an asc build script
	KindMake           Kind = "make"           // Makefile writing plugin.wasm
	KindC              Kind = "c"              // .c files
	KindWAT            Kind = "wat"            // one .wat file (wat2wasm)
)

// ManifestFile is the name of the manifest that states a build command.
const ManifestFile = "wasmcluster.toml"

// Project is a plugin source directory and how it builds.
type Project struct {
	Dir  string // absolute
	Kind Kind
	// Command is a manifest's build command (run with sh -c in Dir), or
	// the package.json build script of an AssemblyScript project.
	Command string
	// Output is the module the command writes, relative to Dir: the
	// manifest's output, an AssemblyScript script's --outFile, a
	// Makefile's plugin.wasm. Empty for kinds that build into a temp file.
	Output string
	// RustSource is the crate root of a KindRust project.
	RustSource string
}

// ErrNoProject is a directory Detect finds no plugin project in.
var ErrNoProject = errors.New("no plugin project: want a " + ManifestFile +
	", Go files, a Cargo.toml, a lib.rs, a package.json with an asc build script, a Makefile, .c files or a .wat file")

// Detect decides how dir builds (see the package doc for the order).
func Detect(dir string) (Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Project{}, fmt.Errorf("build %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return Project{}, fmt.Errorf("build %s: not a directory", dir)
	}
	p := Project{Dir: abs}
	has := func(name string) bool { _, err := os.Stat(filepath.Join(abs, name)); return err == nil }
	glob := func(pat string) bool { m, _ := filepath.Glob(filepath.Join(abs, pat)); return len(m) > 0 }
	switch {
	case has(ManifestFile):
		p.Kind = KindManifest
		p.Command, p.Output, err = readManifest(filepath.Join(abs, ManifestFile))
	case glob("*.go"):
		p.Kind = KindGo
	case has("Cargo.toml"):
		p.Kind = KindCargo
	case has("lib.rs"), has("src/lib.rs"):
		p.Kind, p.RustSource = KindRust, "lib.rs"
		if !has("lib.rs") {
			p.RustSource = filepath.Join("src", "lib.rs")
		}
	case has("package.json"):
		p.Kind = KindAssemblyScript
		p.Command, p.Output, err = readPackageJSON(filepath.Join(abs, "package.json"))
	case has("Makefile"), has("makefile"):
		p.Kind, p.Output = KindMake, "plugin.wasm"
	case glob("*.c"):
		p.Kind = KindC
	case glob("*.wat"):
		p.Kind = KindWAT
	default:
		return p, fmt.Errorf("build %s: %w", dir, ErrNoProject)
	}
	if err != nil {
		return p, fmt.Errorf("build %s: %w", dir, err)
	}
	return p, nil
}

// readManifest reads wasmcluster.toml: `key = "value"` lines, # comments.
// Both build and output are required; any other key is an error naming it.
func readManifest(path string) (command, output string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
		val, qerr := strconv.Unquote(raw)
		if !ok || qerr != nil {
			return "", "", fmt.Errorf("%s:%d: want key = \"value\", got %q", ManifestFile, n, line)
		}
		switch key {
		case "build":
			command = val
		case "output":
			output = val
		default:
			return "", "", fmt.Errorf("%s:%d: unknown key %q (want build or output)", ManifestFile, n, key)
		}
	}
	if command == "" || output == "" {
		return "", "", fmt.Errorf(`%s: needs both build = "command" and output = "file.wasm"`, ManifestFile)
	}
	if filepath.IsAbs(output) || strings.HasPrefix(filepath.Clean(output), "..") {
		return "", "", fmt.Errorf("%s: output %q must be a path inside the project directory", ManifestFile, output)
	}
	return command, filepath.Clean(output), nil
}

// readPackageJSON returns the build script of an AssemblyScript project
// and the module it writes (its --outFile or -o).
func readPackageJSON(path string) (script, output string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", "", fmt.Errorf("package.json: %w", err)
	}
	script = pkg.Scripts["build"]
	if !strings.Contains(script, "asc") {
		return "", "", fmt.Errorf(`package.json: scripts.build %q does not run asc; an AssemblyScript plugin builds with "asc assembly/index.ts --outFile build/plugin.wasm …" (or say how in %s)`, script, ManifestFile)
	}
	f := strings.Fields(script)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "--outFile" || f[i] == "-o" {
			return script, filepath.Clean(f[i+1]), nil
		}
	}
	return "", "", fmt.Errorf("package.json: scripts.build %q has no --outFile; name the module it writes", script)
}
