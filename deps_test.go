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
	"host":      {"abi", "internal/digest", "internal/fsfail", "github.com/tetratelabs/wazero"},
	"plugins":   {"abi", "host", "plugins", "internal/digest", "internal/fsfail", "github.com/fsnotify/fsnotify", "github.com/tetratelabs/wazero"},
	// The primary and the worker process's side of the protocol; each other
	// job of the process layer is a package below it.
	"workers": {"abi", "host", "plugins", "internal/digest", "internal/unixsock", "workers/control", "workers/httpserve", "workers/admin", "workers/systemd", "workers/clientaddr", "workers/tlscert", "workers/balance", "golang.org/x/sys"},
	// The control socket: the CLI's status, top and reload need nothing else.
	"workers/control": {"internal/digest", "internal/unixsock"},
	// The serving path of workers and --workers 0: host only for the
	// plugin's pool counters, control for the latency buckets.
	"workers/httpserve": {"host", "workers/control", "workers/clientaddr"},
	// Who a request came from (trusted proxies, PROXY protocol): stdlib only.
	"workers/clientaddr": {},
	// Connections per worker in a table shared with the primary (memfd).
	"workers/balance": {"golang.org/x/sys"},
	// The admin listener: Prometheus over a snapshot of either mode.
	"workers/admin": {"workers/control", "workers/httpserve", "github.com/prometheus/", "host"},
	// Serving certificates: read, checked, watched, chosen by SNI.
	"workers/tlscert": {"github.com/fsnotify/fsnotify"},
	// sd_notify and unit files, written against the protocol.
	"workers/systemd": {"golang.org/x/sys"},
	"examples":        {"abi"},
	"cmd":             {""}, // the CLI may import anything
	"internal":        {},   // shared helpers: stdlib only, so every layer may import them
	// The WebSocket helpers of tests, apart from testkit for this import.
	"internal/testkit/wstest": {"github.com/coder/websocket"},
	// serve is the CLI without its command line: plain structs in, no
	// cobra, viper or config.
	// A plugin's imports, exports and grants, read from the compiled module
	// without running it: the ABI's names and wazero only.
	"plugins/inspect":                {"abi", "github.com/tetratelabs/wazero"},
	"cmd/wasmcluster/internal/serve": {"abi", "host", "plugins", "workers", "internal/digest", "outbound", "workers/tlscert", "kv"},
	// Outbound HTTP's policy and client: host defines the interface it
	// needs (host.Outbound); cmd wires this package in.
	"outbound": {"abi"},

	// The shared store: kv is the interface, errors and config (stdlib and
	// abi only); the backends below it use kv and their engine's client.
	// host imports none of them (it defines host.KV); cmd/workers wire them.
	"kv":          {"abi"},
	"kv/embedded": {"abi", "kv", "github.com/nats-io/"},
	"kv/natskv":   {"abi", "kv", "github.com/nats-io/"},
	"kv/rediskv":  {"abi", "kv", "github.com/redis/go-redis/"},
	"kv/kvopen":   {"abi", "kv", "kv/natskv", "kv/rediskv"},
	"kv/kvtest":   {"abi", "kv", "internal/testkit"},

	// A plugin served to many machines from a NATS object store: the
	// store's connection options (kv/natskv) and nats.go; it writes a file
	// the plugin watcher watches, so it needs nothing of plugins or workers.
	"fleet": {"kv", "kv/natskv", "internal/digest", "github.com/nats-io/"},
}

// testOnly are the helper packages of tests: only _test.go files and each
// other import them. `go list`'s Imports leave _test.go files out, so an
// import of one seen here from elsewhere comes from production code.
var testOnly = map[string]bool{
	"internal/testkit":          true,
	"internal/testkit/wstest":   true,
	"plugins/internal/testwasm": true,
	"kv/kvtest":                 true, // the backends' conformance suite
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
		for _, imp := range fields[1:] {
			rel := strings.TrimPrefix(imp, module+"/")
			switch {
			case testOnly[rel] && !testOnly[pkg]:
				t.Errorf("%s imports %s, which only tests may import", fields[0], imp)
			case testOnly[rel], !ok, isStdlib(imp):
			case !permitted(rel, rules):
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
