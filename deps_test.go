// Package wasmcluster_test holds repository-wide checks.
package wasmcluster_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wasmcluster/wasmcluster"

// allowed maps a package prefix (below the module) to the module-internal
// and third-party import prefixes it may use. The standard library is always
// allowed. This keeps the one-way data flow of DESIGN.md §2:
// cmd -> workers -> plugins -> host -> abi.
var allowed = map[string][]string{
	"abi":       {},
	"abi/guest": {"abi"},
	"host":      {"abi", "github.com/tetratelabs/wazero"},
	"plugins":   {"abi", "host", "plugins", "github.com/fsnotify/fsnotify", "github.com/tetratelabs/wazero"},
	"workers":   {"abi", "host", "plugins", "workers", "golang.org/x/sys", "github.com/prometheus/"},
	"examples":  {"abi"},
	"cmd":       {""}, // the CLI may import anything
	// serve is the CLI without its command line: plain structs in, no
	// cobra, viper or config.
	"cmd/wasmcluster/internal/serve": {"abi", "host", "plugins", "workers"},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rules, ok := rulesFor(pkg)
		if !ok {
			continue
		}
		for _, imp := range fields[1:] {
			if isStdlib(imp) {
				continue
			}
			rel := imp
			if strings.HasPrefix(imp, module+"/") {
				rel = strings.TrimPrefix(imp, module+"/")
			}
			if !permitted(rel, rules) {
				t.Errorf("%s imports %s, which DESIGN.md §2 does not allow", fields[0], imp)
			}
		}
	}
}

// rulesFor finds the longest configured prefix matching pkg.
func rulesFor(pkg string) ([]string, bool) {
	best, rules, found := "", []string(nil), false
	for prefix, r := range allowed {
		if (pkg == prefix || strings.HasPrefix(pkg, prefix+"/")) && len(prefix) >= len(best) {
			best, rules, found = prefix, r, true
		}
	}
	return rules, found
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		if r == "" || imp == r || strings.HasPrefix(imp, r+"/") || (strings.HasSuffix(r, "/") && strings.HasPrefix(imp, r)) {
			return true
		}
	}
	return false
}

func isStdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}
