package main

import (
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runBin(t, nil, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "wasmcluster "+testVersion+" ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want wasmcluster %s ...", args, r.code, r.stdout, r.stderr, testVersion)
		}
	}
}

func TestFormatVersion(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-11-25T01:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	got := formatVersion("dev", bi)
	if !strings.HasPrefix(got, "wasmcluster dev (commit 0123456789ab, modified, 2026-11-25T01:00:00Z) go") {
		t.Errorf("got %q", got)
	}
	// go install module@v1.2.3 without -ldflags reports the module version.
	got = formatVersion("dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}})
	if !strings.HasPrefix(got, "wasmcluster v1.2.3 go") {
		t.Errorf("got %q", got)
	}
	if got := formatVersion("v9", nil); !strings.HasPrefix(got, "wasmcluster v9 go") {
		t.Errorf("got %q", got)
	}
}

// `config` prints the effective configuration; use it to check precedence
// through the real binary: flags > env > file > defaults.
func TestConfigPrecedence(t *testing.T) {
	file := testkit.TempFile(t, "c.toml", []byte(`
listen = "127.0.0.1:1111"
request_timeout = "1s"
idle_timeout = "1s"
[plugin]
pool_size = 1
[log]
level = "warn"
`))
	r := runBin(t,
		[]string{"WASMCLUSTER_REQUEST_TIMEOUT=2s", "WASMCLUSTER_PLUGIN_POOL_SIZE=2", "WASMCLUSTER_LOG_LEVEL=error"},
		"config", "--config", file, "--plugin-pool-size", "3", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		`listen = "127.0.0.1:1111"`, // file
		`request_timeout = "2s"`,    // env over file
		`pool_size = 3`,             // flag over env over file
		`level = "debug"`,           // flag over env over file
		`idle_timeout = "1s"`,       // file over default
		`drain_timeout = "30s"`,     // default
	} {
		if !strings.Contains(r.stdout, "\n"+want+"\n") {
			t.Errorf("effective config lacks %s:\n%s", want, r.stdout)
		}
	}

	// WASMCLUSTER_CONFIG names the file when --config is absent.
	r = runBin(t, []string{"WASMCLUSTER_CONFIG=" + file}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, `listen = "127.0.0.1:1111"`) {
		t.Errorf("WASMCLUSTER_CONFIG not used: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The output is itself a config file that reproduces the same config.
	out := testkit.TempFile(t, "out.toml", []byte(r.stdout))
	r2 := runBin(t, nil, "config", "--config", out)
	if r2.code != 0 || r2.stdout != r.stdout {
		t.Errorf("config output does not round-trip (exit %d):\n%s\nvs\n%s%s", r2.code, r.stdout, r2.stdout, r2.stderr)
	}
}

// The sample config.toml at the repository root is valid for the binary.
func TestSampleConfigLoads(t *testing.T) {
	r := runBin(t, nil, "config", "--config", filepath.Join("..", "..", "config.toml"))
	d := runBin(t, nil, "config")
	if r.code != 0 || r.stdout != d.stdout {
		t.Errorf("config.toml: exit %d, stderr %s; differs from defaults:\n%s", r.code, r.stderr, r.stdout)
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	plugin := testkit.TempFile(t, "p.wasm", []byte("not used"))
	bad := testkit.TempFile(t, "bad.toml", []byte("request_timeout = \"abc\"\n"))
	unknown := testkit.TempFile(t, "unknown.toml", []byte("[plugin]\npool_sise = 4\n"))
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"bad flag value", nil, []string{"serve", plugin, "--request-timeout", "abc"},
			[]string{`config: request_timeout: "abc": invalid duration`, "flag --request-timeout"}},
		{"bad env value", []string{"WASMCLUSTER_PLUGIN_POOL_SIZE=many"}, []string{"serve", plugin},
			[]string{`config: plugin.pool_size: "many": not an integer`, "env WASMCLUSTER_PLUGIN_POOL_SIZE"}},
		{"bad file value", nil, []string{"serve", plugin, "--config", bad},
			[]string{`config: request_timeout: "abc": invalid duration`, "file " + bad}},
		{"unknown key", nil, []string{"serve", plugin, "--config", unknown},
			[]string{`unknown key "plugin.pool_sise"`, `did you mean "plugin.pool_size"`}},
		{"missing config file", nil, []string{"serve", plugin, "--config", "/nonexistent/c.toml"},
			[]string{"config: /nonexistent/c.toml:"}},
		{"invalid listen", nil, []string{"serve", plugin, "--listen", "8080"},
			[]string{`config: listen: "8080": want host:port`}},
		{"no plugin", nil, []string{"serve"}, []string{"exactly one plugin", "wasmcluster serve --help"}},
		{"two plugins", nil, []string{"serve", plugin, plugin}, []string{"exactly one plugin"}},
		{"unknown flag", nil, []string{"serve", plugin, "--listn", ":1"}, []string{"unknown flag: --listn"}},
		{"unknown command", nil, []string{"srve"}, []string{`unknown command "srve"`}},
		{"missing guest config file", nil, []string{"serve", plugin, "--plugin-config-file", "/nonexistent/g"},
			[]string{`config: plugin.config_file: "/nonexistent/g"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBin(t, tt.env, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestRuntimeErrors(t *testing.T) {
	notWasm := testkit.TempFile(t, "notwasm.wasm", []byte("this is not webassembly\n"))
	truncated := testkit.TempFile(t, "trunc.wasm", []byte("\x00asm\x01\x00\x00\x00\x01"))
	noExport := wat(t, "noexport")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing plugin", []string{"serve", filepath.Join(t.TempDir(), "nope.wasm")}, []string{"read plugin", "nope.wasm"}},
		{"not wasm", []string{"serve", notWasm}, []string{"plugin notwasm.wasm refused: not a WebAssembly module"}},
		{"truncated wasm", []string{"serve", truncated}, []string{"plugin trunc.wasm"}},
		{"missing export", []string{"serve", noExport}, []string{"plugin noexport.wasm refused", `"handle_request"`, "i64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBin(t, nil, append(tt.args, "--listen", "127.0.0.1:0", "--cache-dir", "off")...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// A port already taken is a runtime failure (1), reported with the address.
func TestListenBusy(t *testing.T) {
	plugin := wat(t, "hello")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runBin(t, nil, "serve", plugin, "--listen", ln.Addr().String())
	if r.code != 1 || !strings.Contains(r.stderr, "listen on "+ln.Addr().String()) {
		t.Errorf("exit %d, want 1 naming the address; stderr:\n%s", r.code, r.stderr)
	}
	// Default log format is text, and the plugin was loaded before listening.
	if !strings.Contains(r.stderr, `level=INFO msg="plugin loaded"`) {
		t.Errorf("no text-format 'plugin loaded' log line:\n%s", r.stderr)
	}
}

// A unix socket path with a regular file on it is refused, not deleted.
func TestListenUnixRefusesRegularFile(t *testing.T) {
	plugin := wat(t, "hello")
	path := testkit.TempFile(t, "not-a-socket", []byte("keep me"))
	r := runBin(t, nil, "serve", plugin, "--listen", "unix:"+path)
	if r.code != 1 || !strings.Contains(r.stderr, "not a socket") {
		t.Errorf("exit %d, want 1 'not a socket'; stderr:\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("file was touched: %q, %v", b, err)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"help", "serve"}} {
		r := runBin(t, nil, args...)
		if r.code != 0 || r.stdout == "" {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	r := runBin(t, nil, "serve", "--help")
	for _, flag := range []string{"--listen", "--upstream", "--request-timeout", "--plugin-config-file", "--plugin-pool-size", "--max-header-bytes", "--config"} {
		if !strings.Contains(r.stdout, flag+" ") {
			t.Errorf("serve --help lacks %s", flag)
		}
	}
}
