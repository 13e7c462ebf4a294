package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

const sampleFile = "../../../../config.toml"

// The sample config.toml must load to exactly Default() and name every key.
func TestSampleFileIsDefault(t *testing.T) {
	got, err := Load(viper.New(), nil, sampleFile)
	if err != nil {
		t.Fatalf("load %s: %v", sampleFile, err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("%s loads to\n%+v\nwant Default()\n%+v", sampleFile, got, Default())
	}

	// Parsed independently of viper: the file's keys are exactly Keys().
	b, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse %s: %v", sampleFile, err)
	}
	fileKeys := map[string]bool{}
	flatten("", doc, fileKeys)
	for _, k := range Keys() {
		if !fileKeys[k.Name] {
			t.Errorf("%s does not document key %q", sampleFile, k.Name)
		}
		delete(fileKeys, k.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(fileKeys)) {
		t.Errorf("%s has key %q that Config does not declare", sampleFile, k)
	}
	// Every key is preceded by a comment.
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.Contains(l, " = ") && !strings.HasPrefix(l, "#") && (i == 0 || !strings.HasPrefix(lines[i-1], "#")) {
			t.Errorf("%s:%d: key without a comment: %s", sampleFile, i+1, l)
		}
	}
}

func flatten(prefix string, m map[string]any, out map[string]bool) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = true
	}
}

func TestKeysNaming(t *testing.T) {
	k, ok := lookupKey("plugin.pool_size")
	if !ok {
		t.Fatal("no key plugin.pool_size")
	}
	if k.Flag() != "plugin-pool-size" || k.Env() != "WASMCLUSTER_PLUGIN_POOL_SIZE" || k.Section() != "plugin" || k.Leaf() != "pool_size" {
		t.Errorf("got flag %q env %q section %q leaf %q", k.Flag(), k.Env(), k.Section(), k.Leaf())
	}
	seen := map[string]bool{}
	for _, k := range Keys() {
		if k.Help == "" {
			t.Errorf("key %s has no help text", k.Name)
		}
		if seen[k.Flag()] {
			t.Errorf("two keys map to flag --%s", k.Flag())
		}
		seen[k.Flag()] = true
	}
}

// A non-default Config survives TOML() -> file -> Load unchanged.
func TestTOMLRoundTrip(t *testing.T) {
	c := Default()
	c.Listen = "unix:/tmp/wc.sock"
	c.Upstream = "http://127.0.0.1:9000/base"
	c.RequestTimeout = 1500 * time.Millisecond
	c.MaxRequestBody = -1
	c.MaxHeaderBytes = 12345
	c.CacheDir = `C:\odd "dir"` + "\ttab\x01"
	c.Plugin.Config = "{\"greeting\": \"héllo\"}\n"
	c.Plugin.PoolSize = 7
	c.Plugin.MemoryLimitPages = 256
	c.Log = LogConfig{Level: "debug", Format: "json"}
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte(c.TOML()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(viper.New(), nil, path)
	if err != nil {
		t.Fatalf("load:\n%s\nerr: %v", c.TOML(), err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
}

func TestPrecedence(t *testing.T) {
	file := testkit.TempFile(t, "config.toml", []byte(`
listen = "127.0.0.1:1"
request_timeout = "1s"
[plugin]
pool_size = 1
memory_limit_pages = 100
`))
	t.Setenv("WASMCLUSTER_REQUEST_TIMEOUT", "2s")
	t.Setenv("WASMCLUSTER_PLUGIN_POOL_SIZE", "2")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--plugin-pool-size", "3"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(viper.New(), fs, file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:1" { // file only
		t.Errorf("listen = %q, want the file's", c.Listen)
	}
	if c.RequestTimeout != 2*time.Second { // env beats file
		t.Errorf("request_timeout = %v, want env's 2s", c.RequestTimeout)
	}
	if c.Plugin.PoolSize != 3 { // flag beats env and file
		t.Errorf("pool_size = %d, want flag's 3", c.Plugin.PoolSize)
	}
	if c.Plugin.MemoryLimitPages != 100 {
		t.Errorf("memory_limit_pages = %d, want file's 100", c.Plugin.MemoryLimitPages)
	}
	if c.IdleTimeout != Default().IdleTimeout { // nobody set it
		t.Errorf("idle_timeout = %v, want default", c.IdleTimeout)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env, flags []string
		want       []string // substrings of the error
	}{
		{name: "bad duration in file", file: `request_timeout = "abc"`,
			want: []string{`config: request_timeout: "abc": invalid duration`, "(from file "}},
		{name: "duration without unit from env", env: []string{"WASMCLUSTER_DRAIN_TIMEOUT", "30"},
			want: []string{`config: drain_timeout: "30": invalid duration`, "(from env WASMCLUSTER_DRAIN_TIMEOUT)"}},
		{name: "duration as number in file", file: `idle_timeout = 5`,
			want: []string{`config: idle_timeout: "5": invalid duration`}},
		{name: "bad size flag", flags: []string{"--max-request-body", "10 lightyears"},
			want: []string{`config: max_request_body: "10 lightyears": invalid size`, "(from flag --max-request-body)"}},
		{name: "pool size not a number", env: []string{"WASMCLUSTER_PLUGIN_POOL_SIZE", "lots"},
			want: []string{`config: plugin.pool_size: "lots": not an integer`}},
		{name: "pages out of range", file: "[plugin]\nmemory_limit_pages = -1",
			want: []string{`config: plugin.memory_limit_pages: "-1": out of range`}},
		{name: "pages too many", flags: []string{"--plugin-memory-limit-pages", "70000"},
			want: []string{`config: plugin.memory_limit_pages: "70000": must be between 1 and 65536`}},
		{name: "zero memory budget", flags: []string{"--plugin-memory-budget", "0"},
			want: []string{`config: plugin.memory_budget: "0": must be a positive size`, "(from flag --plugin-memory-budget)"}},
		{name: "zero pool wait", env: []string{"WASMCLUSTER_PLUGIN_POOL_WAIT", "0s"},
			want: []string{`config: plugin.pool_wait: "0s": must be positive`}},
		{name: "listen without port", flags: []string{"--listen", "localhost"},
			want: []string{`config: listen: "localhost": want host:port`}},
		{name: "listen bad port", file: `listen = ":99999"`,
			want: []string{`config: listen: ":99999": port must be a number`}},
		{name: "empty unix path", flags: []string{"--listen", "unix:"},
			want: []string{`config: listen: "unix:": unix socket path is empty`}},
		{name: "upstream scheme", flags: []string{"--upstream", "ftp://x"},
			want: []string{`config: upstream: "ftp://x": scheme must be http or https`}},
		{name: "upstream no host", flags: []string{"--upstream", "http://"},
			want: []string{`config: upstream: "http://": URL has no host`}},
		{name: "zero timeout", flags: []string{"--request-timeout", "0s"},
			want: []string{`config: request_timeout: "0s": must be positive`}},
		{name: "zero body", flags: []string{"--max-request-body", "0"},
			want: []string{`config: max_request_body: "0": must be positive, or -1 for unlimited`}},
		{name: "zero buffered response", flags: []string{"--plugin-max-buffered-response", "0"},
			want: []string{`config: plugin.max_buffered_response: "0": must be positive`, "(from flag --plugin-max-buffered-response)"}},
		{name: "buffered response size", env: []string{"WASMCLUSTER_PLUGIN_MAX_BUFFERED_RESPONSE", "lots"},
			want: []string{`config: plugin.max_buffered_response: "lots": invalid size`}},
		{name: "log level", env: []string{"WASMCLUSTER_LOG_LEVEL", "loud"},
			want: []string{`config: log.level: "loud": must be debug, info, warn or error`}},
		{name: "log format", file: "[log]\nformat = \"xml\"",
			want: []string{`config: log.format: "xml": must be text or json`}},
		{name: "both guest configs", file: "[plugin]\nconfig = \"a\"\nconfig_file = \"b\"",
			want: []string{`config: plugin.config_file: "b": plugin.config is set too`}},
		{name: "string wanted", file: `listen = 8080`,
			want: []string{`config: listen: "8080": want a string`}},
		{name: "unknown key", file: "request_timout = \"1s\"",
			want: []string{`unknown key "request_timout" (did you mean "request_timeout"?)`}},
		{name: "unknown nested key", file: "[plugin]\npoolsize = 3",
			want: []string{`unknown key "plugin.poolsize" (did you mean "plugin.pool_size"?)`}},
		{name: "unknown section", file: "[server]\nport = 3",
			want: []string{`unknown key "server.port"`}},
		{name: "all errors at once", file: "request_timeout = \"x\"\nidle_timeout = \"y\"",
			want: []string{`request_timeout: "x"`, `idle_timeout: "y"`}},
		{name: "decode and validation errors together", flags: []string{"--request-timeout", "abc", "--plugin-memory-limit-pages", "0"},
			want: []string{`request_timeout: "abc": invalid duration`, `plugin.memory_limit_pages: "0": must be between`}},
		{name: "not toml", file: "listen = ",
			want: []string{"config: ", ".toml: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i+1 < len(tt.env); i += 2 {
				t.Setenv(tt.env[i], tt.env[i+1])
			}
			file := ""
			if tt.file != "" {
				file = testkit.TempFile(t, "config.toml", []byte(tt.file))
			}
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			_, err := Load(viper.New(), fs, file)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateFieldErrors(t *testing.T) {
	c := Default()
	c.Listen = "nope"
	c.Log.Format = "xml"
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "listen" || fe.Value != "nope" {
		t.Fatalf("got %v, want a FieldError for listen", err)
	}
	if !strings.Contains(err.Error(), "log.format") {
		t.Errorf("error %q does not report log.format too", err)
	}
	c = Default()
	c.WorkerProcs = -2
	if err := c.Validate(); !errors.As(err, &fe) || fe.Key != "worker_procs" || fe.Value != "-2" {
		t.Errorf("worker_procs -2: got %v, want a FieldError naming it", err)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default() is invalid: %v", err)
	}
}

func TestEmptySectionAndEmptyFile(t *testing.T) {
	for _, body := range []string{"", "[log]\n", "[plugin]\n[log]\n"} {
		c, err := Load(viper.New(), nil, testkit.TempFile(t, "config.toml", []byte(body)))
		if err != nil {
			t.Errorf("file %q: %v", body, err)
		} else if !reflect.DeepEqual(c, Default()) {
			t.Errorf("file %q: got %+v, want defaults", body, c)
		}
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(viper.New(), nil, filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func TestResolveCacheDir(t *testing.T) {
	c := Default()
	c.CacheDir = CacheDirOff
	if d, err := c.ResolveCacheDir(); d != "" || err != nil {
		t.Errorf("off -> %q, %v, want none", d, err)
	}
	c.CacheDir = "/x/y"
	if d, err := c.ResolveCacheDir(); d != "/x/y" || err != nil {
		t.Errorf("explicit -> %q, %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "/cachehome")
	c.CacheDir = ""
	if d, err := c.ResolveCacheDir(); d != "/cachehome/wasmcluster" || err != nil {
		t.Errorf("default -> %q, %v, want /cachehome/wasmcluster", d, err)
	}
	// No cache directory at all: the error names the key.
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	var fe *FieldError
	if d, err := c.ResolveCacheDir(); !errors.As(err, &fe) || fe.Key != "cache_dir" {
		t.Errorf("no HOME -> %q, %v, want a cache_dir error", d, err)
	}
}

// Whatever the file holds, Load returns a valid Config or an error; it never
// panics, and a Config it returns passes Validate.
func FuzzLoadFile(f *testing.F) {
	sample, err := os.ReadFile(sampleFile)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(sample), "", "listen = 1", "[plugin]\npool_size = \"x\"", "plugin = 3",
		"request_timeout = 1979-05-27T07:32:00Z", "max_request_body = [1, 2]",
		"[log]\nlevel = { a = 1 }", "[[plugin]]\nconfig = \"a\"", "max_header_bytes = 1.5",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("Load hangs on %q", body))
			}
		}()
		c, err := Load(viper.New(), nil, path)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned an invalid config: %v", err)
		}
	})
}

// Load can run again on the same viper instance (a reload on SIGHUP) and sees
// the file's new content, including keys removed since.
func TestReloadSameViper(t *testing.T) {
	path := testkit.TempFile(t, "config.toml", []byte("request_timeout = \"1s\"\n[plugin]\npool_size = 4\n"))
	v := viper.New()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	c1, err := Load(v, fs, path)
	if err != nil || c1.RequestTimeout != time.Second || c1.Plugin.PoolSize != 4 {
		t.Fatalf("first load: %+v, %v", c1, err)
	}
	if err := os.WriteFile(path, []byte("request_timeout = \"2s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(v, fs, path)
	if err != nil {
		t.Fatal(err)
	}
	if c2.RequestTimeout != 2*time.Second || c2.Plugin.PoolSize != 0 || c2.Listen != "127.0.0.1:9" {
		t.Errorf("reload: request_timeout %v pool_size %d listen %q; want 2s, 0 (default again), the flag's", c2.RequestTimeout, c2.Plugin.PoolSize, c2.Listen)
	}
}

// Boolean keys: --flag alone means true, --flag=false, env and file values,
// and a non-boolean is refused naming the key.
func TestBoolKeys(t *testing.T) {
	var k Key
	for _, kk := range Keys() {
		// proxy_protocol alone is invalid (it needs trusted_proxies).
		if kk.TypeName() == "true|false" && kk.Name != "proxy_protocol" {
			k = kk
			break
		}
	}
	if k.Name == "" {
		t.Skip("no boolean key in Config")
	}
	load := func(args []string, env string) (bool, error) {
		t.Helper()
		if env != "" {
			t.Setenv(k.Env(), env)
		}
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c, err := Load(viper.New(), fs, "")
		if err != nil {
			return false, err
		}
		return k.field(&c).Bool(), nil
	}
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{[]string{"--" + k.Flag()}, "", true},
		{[]string{"--" + k.Flag() + "=false"}, "", false},
		{nil, "false", false},
		{nil, "true", true},
		{[]string{"--" + k.Flag() + "=true"}, "false", true}, // flag over env
	} {
		if got, err := load(tc.args, tc.env); err != nil || got != tc.want {
			t.Errorf("args %v env %q: got %v, %v; want %v", tc.args, tc.env, got, err, tc.want)
		}
	}
	if _, err := load(nil, "maybe"); err == nil || !strings.Contains(err.Error(), k.Name+`: "maybe": want true or false`) {
		t.Errorf("env maybe: got %v, want an error naming %s", err, k.Name)
	}
}

// Bad [kv] values are refused naming the key and the value.
func TestKVValidation(t *testing.T) {
	for _, tt := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.KV.URL = "http://x" }, `config: kv.url: "http://x": want empty (embedded), off`},
		{func(c *Config) { c.KV.Replicas = 2 }, `config: kv.replicas: "2": must be 1, 3 or 5`},
		{func(c *Config) { c.KV.MaxValue = 0 }, `config: kv.max_value: "0": must be between 1B and 64MiB`},
		{func(c *Config) { c.KV.Timeout = 2 * time.Minute }, `config: kv.timeout: "2m": must be positive and at most 1m`},
		{func(c *Config) { c.KV.Bucket = "a.b" }, `config: kv.bucket: "a.b": must be letters, digits, - or _`},
	} {
		c := Default()
		tt.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate() = %v, want %q", err, tt.want)
		}
	}
	for _, url := range []string{"", "off", "embedded", "nats://a:4222,nats://b:4222", "redis://127.0.0.1:6379", "rediss://h:1"} {
		c := Default()
		c.KV.URL = url
		if err := c.Validate(); err != nil {
			t.Errorf("kv.url %q: %v", url, err)
		}
	}
}
