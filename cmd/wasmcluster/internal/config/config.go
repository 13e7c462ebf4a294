package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything `wasmcluster serve` can be told. Each field's toml tag
// is its key (nested structs add a "section." prefix); help is the flag usage.
// Keep config.toml at the repository root in step: a test checks that it
// names every key and that it loads to exactly Default().
type Config struct {
	Listen            string        `toml:"listen" help:"address to listen on: host:port, [ipv6]:port, or unix:/path/to.sock"`
	Upstream          string        `toml:"upstream" help:"URL that next proxies to (http or https); empty answers next with a built-in 404"`
	RequestTimeout    time.Duration `toml:"request_timeout" help:"time limit for one request inside the plugin, next included; past it the answer is 504"`
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout" help:"time limit for a client to send the request headers"`
	IdleTimeout       time.Duration `toml:"idle_timeout" help:"how long an idle keep-alive connection stays open"`
	DrainTimeout      time.Duration `toml:"drain_timeout" help:"on SIGINT/SIGTERM, how long in-flight requests may finish before connections are closed"`
	MaxRequestBody    Size          `toml:"max_request_body" help:"largest request body accepted (e.g. 10MiB); larger is answered 413; -1 means unlimited"`
	MaxHeaderBytes    Size          `toml:"max_header_bytes" help:"largest request header block accepted (e.g. 64KiB); larger is answered 431"`
	CacheDir          string        `toml:"cache_dir" help:"on-disk compilation cache and plugin snapshots, private to the server's user (refused if group or others can write it); empty means <user cache dir>/wasmcluster, \"off\" disables the cache (snapshots then go to a temporary directory removed at exit)"`
	Admin             string        `toml:"admin" help:"admin listener serving /metrics (Prometheus), /healthz and /readyz: host:port; \"off\" disables it"`
	Workers           int           `toml:"workers" help:"worker processes; -1 means one per usable CPU (cgroup quota and CPU affinity aware); 0 serves in this process (debugging)"`
	WorkerProcs       int           `toml:"worker_procs" help:"each worker's GOMAXPROCS: 0 means the usable CPUs shared out over the workers (1 with one worker per core: the least CPU per request); -1 means every usable CPU, Go's default (a lower tail latency at many connections when cores are idle, at more CPU per request); a GOMAXPROCS in the environment wins"`
	TrustedProxies    []string      `toml:"trusted_proxies" help:"proxies and load balancers (CIDR prefixes or addresses, e.g. [\"10.0.0.0/8\", \"::1\"]; a flag may be repeated or comma-separated) whose Forwarded or X-Forwarded-For names the client: the rightmost address that is not itself trusted; empty means the connection's peer is the client"`
	ProxyProtocol     bool          `toml:"proxy_protocol" help:"accept a PROXY protocol v1 or v2 header (TCP load balancers) in front of connections from trusted_proxies; other peers are served as plain HTTP"`
	Control           string        `toml:"control" help:"control socket for wasmcluster status, reload and top; empty means the default path ($XDG_RUNTIME_DIR/wasmcluster/control.sock, else /tmp/wasmcluster-UID/control.sock); \"-\" disables it"`

	// TLS and HTTP/2 at the edge (tls.go).
	UpstreamCA string `toml:"upstream_ca" help:"PEM file of CA certificates an https upstream's certificate may chain to, besides the system's roots (the upstream's certificate is always verified)"`
	H2C        bool   `toml:"h2c" help:"also serve HTTP/2 without TLS (prior knowledge), for a trusted proxy in front that speaks it; over TLS, HTTP/2 is negotiated by ALPN anyway"`

	Plugin  PluginConfig  `toml:"plugin"`
	Log     LogConfig     `toml:"log"`
	Recycle RecycleConfig `toml:"recycle"`

	Outbound OutboundConfig `toml:"outbound"` // outbound.go
	TLS      TLSConfig      `toml:"tls"`
	KV       KVConfig       `toml:"kv"`
}

// RecycleConfig is the [recycle] section: when a worker is replaced by a
// fresh one (surge-then-drain: no capacity dip, no failed request).
type RecycleConfig struct {
	MaxRequests       int           `toml:"max_requests" help:"recycle a worker after this many requests (plus jitter); 0 disables"`
	MaxRequestsJitter int           `toml:"max_requests_jitter" help:"up to this many extra requests, at random per worker, so workers do not recycle together; 0 means max_requests/10"`
	MaxRSS            Size          `toml:"max_rss" help:"recycle a worker whose resident memory stays above this (e.g. 512MiB) for max_rss_for; 0 disables"`
	MaxRSSFor         time.Duration `toml:"max_rss_for" help:"how long resident memory must stay above max_rss (sampled every second)"`
	MaxAge            time.Duration `toml:"max_age" help:"recycle a worker this long after it became ready (plus up to 10% at random); 0 disables"`
}

// PluginConfig is the [plugin] section: what the guest sees and its limits.
type PluginConfig struct {
	Config           string        `toml:"config" help:"bytes the plugin reads with get_config (exclusive with plugin.config_file)"`
	ConfigFile       string        `toml:"config_file" help:"file whose content the plugin reads with get_config (exclusive with plugin.config)"`
	MemoryLimitPages uint32        `toml:"memory_limit_pages" help:"cap on each instance's linear memory in 64 KiB pages; memory.grow beyond it fails in the guest"`
	PoolSize         int           `toml:"pool_size" help:"plugin instances per process kept ready (prewarmed, kept idle); under load the pool grows past it up to plugin.memory_budget; 0 means 2 x GOMAXPROCS"`
	MemoryBudget     Size          `toml:"memory_budget" help:"guest memory per process the pool may grow to, each instance counted at its cap (memory_limit_pages): 1GiB at 64 MiB an instance allows 16; never fewer than pool_size"`
	PoolWait         time.Duration `toml:"pool_wait" help:"how long a request waits for an instance once all are busy and the pool is at its bound; then it is answered 503 with Retry-After"`
	PoolKeep         time.Duration `toml:"pool_keep" help:"how long instances created past pool_size stay after a request last found none idle (requests waiting on the store or outbound HTTP hold theirs); 0 closes them as soon as pool_size are idle"`

	MaxBufferedResponse Size `toml:"max_buffered_response" help:"largest response of next (the upstream) held in memory for a plugin that rewrites it (buffer_response, e.g. 32MiB); larger is answered 502"`

	Watch            bool          `toml:"watch" help:"watch the plugin file and roll the workers to each new version (false: only SIGHUP and wasmcluster reload do)"`
	PreflightPath    string        `toml:"preflight_path" help:"path requested with GET through each new version before it takes traffic, by the check and by every worker; an answer of 500 or more refuses it (empty: no request is sent, the load is the check)"`
	PreflightTimeout time.Duration `toml:"preflight_timeout" help:"time limit for checking a new version (compile, initialize, self-test); past it the version is refused"`
	StableAfter      time.Duration `toml:"stable_after" help:"how long a new version is watched after its roll: one whose workers crash-loop within it is reverted to the last good version (publish --wait waits it out on every instance); a worker ready this long has its failure count reset"`
	InitTimeout      time.Duration `toml:"init_timeout" help:"time limit for instantiating and initializing one instance (_initialize or _start); a plugin that takes longer is refused"`

	MaxSize           Size `toml:"max_size" help:"largest plugin file read (e.g. 256MiB), at start and on every hot swap; a larger one is refused"`
	AllowInsecurePath bool `toml:"allow_insecure_path" help:"serve a plugin file that other users could replace (writable by its group or others, or owned by another user than this server's or root, the file or its directory); refused unless true, which logs a warning"`

	Interrupt bool `toml:"interrupt" help:"stop a guest at its request deadline (504) in-process; false is faster (no per-call watcher, Go guests run several times faster) but a worker whose guest overruns its deadline is killed and replaced, losing its other in-flight requests; false needs workers >= 1"`

	// Grants (grants.go): what the plugin may reach beyond its request.
	Env    []string `toml:"env" print:"names" help:"the plugin's whole environment (WASI, os.Getenv in Go): NAME passes the server's own variable, NAME=value sets one; empty by default; output and logs show names only"`
	Mounts []string `toml:"mounts" help:"host directories the plugin sees, as HOSTDIR:GUESTDIR (read-only) or HOSTDIR:GUESTDIR:rw; GUESTDIR is absolute; nothing else of the file system is visible"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	Level  string `toml:"level" help:"log level: debug, info, warn or error"`
	Format string `toml:"format" help:"log format: text or json"`
	Access string `toml:"access" help:"access log, one line per request: off, common, combined or json"`
	File   string `toml:"file" help:"write logs (access log included) to this file instead of stderr; SIGUSR1 reopens it (for logrotate)"`
}

// CacheDirOff is the cache_dir value that disables the on-disk cache.
const CacheDirOff = "off"

// Default returns the configuration used for every key nobody set. The CLI
// passes every value to the packages below explicitly, so these are the
// product's documented defaults whatever those packages default to. Values that
// depend on the machine are expressed as "auto" zero values (pool_size = 0,
// cache_dir = "") so config.toml can state them exactly.
func Default() Config {
	return Config{
		Listen:            ":8080",
		Workers:           -1,
		RequestTimeout:    30 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		DrainTimeout:      30 * time.Second,
		MaxRequestBody:    10 << 20,
		MaxHeaderBytes:    64 << 10,
		Plugin: PluginConfig{
			MemoryLimitPages:    1024, // 64 MiB; a Go guest needs > 128 pages to allocate 8 MiB
			MaxBufferedResponse: 32 << 20,
			MemoryBudget:        1 << 30,
			PoolWait:            time.Second,
			PoolKeep:            30 * time.Second,
			Watch:               true,
			PreflightTimeout:    time.Minute,
			StableAfter:         time.Minute,
			InitTimeout:         10 * time.Second,
			Interrupt:           true,
			MaxSize:             256 << 20,
		},
		Log:     LogConfig{Level: "info", Format: "text", Access: "off"},
		Admin:   "127.0.0.1:9180",
		Recycle: RecycleConfig{MaxRSSFor: 5 * time.Second},

		Outbound: defaultOutbound(), // outbound.go
		KV:       defaultKV(),
	}
}

// FieldError is an invalid value: which key, what value, what is wrong, and
// where the value came from (set by Load; empty for Validate alone).
type FieldError struct {
	Key    string
	Value  string
	Msg    string
	Source string // e.g. "flag --listen", "env WASMCLUSTER_LISTEN", "file config.toml"
}

func (e *FieldError) Error() string {
	s := fmt.Sprintf("config: %s: %s: %s", e.Key, strconv.Quote(e.Value), e.Msg)
	if e.Source != "" {
		s += " (from " + e.Source + ")"
	}
	return s
}

// Validate reports every invalid value at once, each as a *FieldError
// (joined with errors.Join). A valid Config can be served as is.
func (c Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// fieldErrors collects validation errors, each naming its key and value.
type fieldErrors []*FieldError

func (e *fieldErrors) bad(key, value, format string, args ...any) {
	*e = append(*e, &FieldError{Key: key, Value: value, Msg: fmt.Sprintf(format, args...)})
}

// validate checks c phase by phase: the server's keys, the plugin's, then
// workers, admin, logs and recycling.
func (c Config) validate() []*FieldError {
	var errs fieldErrors
	c.validateServer(&errs)
	c.validateEdge(&errs)
	c.validatePlugin(&errs)
	c.validateGrants(&errs)   // grants.go
	c.validateOutbound(&errs) // outbound.go
	c.validateOps(&errs)
	c.validateTLS(&errs) // tls.go
	c.validateKV(&errs)
	return errs
}

// validateServer checks the listener, upstream, timeouts and size limits.
func (c Config) validateServer(errs *fieldErrors) {
	bad := errs.bad
	if msg := checkListen(c.Listen); msg != "" {
		bad("listen", c.Listen, "%s", msg)
	}
	if msg := checkUpstream(c.Upstream); msg != "" {
		bad("upstream", c.Upstream, "%s", msg)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"request_timeout", c.RequestTimeout},
		{"read_header_timeout", c.ReadHeaderTimeout},
		{"idle_timeout", c.IdleTimeout},
		{"drain_timeout", c.DrainTimeout},
		{"plugin.init_timeout", c.Plugin.InitTimeout},
		{"plugin.pool_wait", c.Plugin.PoolWait},
	} {
		if d.v <= 0 {
			bad(d.key, formatDuration(d.v), "must be positive")
		}
	}
	if c.MaxRequestBody == 0 || c.MaxRequestBody < -1 {
		bad("max_request_body", c.MaxRequestBody.String(), "must be positive, or -1 for unlimited")
	}
	if c.MaxHeaderBytes <= 0 || c.MaxHeaderBytes > 64<<20 {
		bad("max_header_bytes", c.MaxHeaderBytes.String(), "must be between 1 and 64MiB")
	}
}

// validatePlugin checks the plugin.* keys.
func (c Config) validatePlugin(errs *fieldErrors) {
	bad := errs.bad
	if c.Plugin.Config != "" && c.Plugin.ConfigFile != "" {
		bad("plugin.config_file", c.Plugin.ConfigFile, "plugin.config is set too; use one or the other")
	}
	if p := c.Plugin.MemoryLimitPages; p == 0 || p > 65536 {
		bad("plugin.memory_limit_pages", strconv.FormatUint(uint64(p), 10), "must be between 1 and 65536 (64 KiB pages, 4 GiB max)")
	}
	if c.Plugin.MaxBufferedResponse <= 0 {
		bad("plugin.max_buffered_response", c.Plugin.MaxBufferedResponse.String(), "must be positive")
	}
	if n := c.Plugin.PoolSize; n < 0 || n > 1<<16 {
		bad("plugin.pool_size", strconv.Itoa(n), "must be between 0 (auto) and 65536")
	}
	if c.Plugin.PoolKeep < 0 {
		bad("plugin.pool_keep", formatDuration(c.Plugin.PoolKeep), "must be 0 or positive")
	}
	if c.Plugin.MemoryBudget <= 0 {
		bad("plugin.memory_budget", c.Plugin.MemoryBudget.String(), "must be a positive size (e.g. 1GiB)")
	}
	if c.Plugin.MaxSize <= 0 {
		bad("plugin.max_size", c.Plugin.MaxSize.String(), "must be a positive size")
	}
	if p := c.Plugin.PreflightPath; p != "" && !strings.HasPrefix(p, "/") {
		bad("plugin.preflight_path", p, "must start with /")
	}
	if c.Plugin.PreflightTimeout <= 0 {
		bad("plugin.preflight_timeout", formatDuration(c.Plugin.PreflightTimeout), "must be positive")
	}
	if c.Plugin.StableAfter <= 0 {
		bad("plugin.stable_after", formatDuration(c.Plugin.StableAfter), "must be positive")
	}
}

// validateOps checks workers, admin, logs and recycling.
func (c Config) validateOps(errs *fieldErrors) {
	bad := errs.bad
	if c.Workers < -1 || c.Workers > 4096 {
		bad("workers", strconv.Itoa(c.Workers), "must be -1 (one per usable CPU), 0 (in-process) or a count up to 4096")
	}
	if c.WorkerProcs < -1 || c.WorkerProcs > 4096 {
		bad("worker_procs", strconv.Itoa(c.WorkerProcs), "must be -1 (every usable CPU), 0 (a share of them) or a count up to 4096")
	}
	if c.Admin != "off" {
		if msg := checkListen(c.Admin); msg != "" || strings.HasPrefix(c.Admin, "unix:") {
			bad("admin", c.Admin, "want host:port, or off")
		}
	}
	switch c.Log.Access {
	case "", "off", "common", "combined", "json": // "" is off too
	default:
		bad("log.access", c.Log.Access, "must be off, common, combined or json")
	}
	if c.Recycle.MaxRequests < 0 || c.Recycle.MaxRequestsJitter < 0 {
		bad("recycle.max_requests", strconv.Itoa(c.Recycle.MaxRequests), "max_requests and max_requests_jitter must be 0 or more")
	}
	if c.Recycle.MaxRSS < 0 {
		bad("recycle.max_rss", c.Recycle.MaxRSS.String(), "must be 0 (off) or a size")
	}
	if c.Recycle.MaxRSSFor <= 0 {
		bad("recycle.max_rss_for", formatDuration(c.Recycle.MaxRSSFor), "must be positive")
	}
	if c.Recycle.MaxAge < 0 {
		bad("recycle.max_age", formatDuration(c.Recycle.MaxAge), "must be 0 (off) or positive")
	}
	if _, ok := logLevels[strings.ToLower(c.Log.Level)]; !ok {
		bad("log.level", c.Log.Level, "must be debug, info, warn or error")
	}
	if f := strings.ToLower(c.Log.Format); f != "text" && f != "json" {
		bad("log.format", c.Log.Format, "must be text or json")
	}
}

func checkListen(addr string) string {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return "unix socket path is empty"
		}
		return ""
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "want host:port, [ipv6]:port or unix:/path"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "port must be a number from 0 to 65535"
	}
	return ""
}

func checkUpstream(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "scheme must be http or https"
	}
	if u.Host == "" {
		return "URL has no host"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "URL must not have a query or fragment"
	}
	return ""
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// LogLevel is log.level as a slog.Level (info if invalid; Validate first).
func (c Config) LogLevel() slog.Level {
	return logLevels[strings.ToLower(c.Log.Level)]
}

// UpstreamURL is upstream parsed, or nil when next is the built-in 404.
func (c Config) UpstreamURL() *url.URL {
	if c.Upstream == "" {
		return nil
	}
	u, err := url.Parse(c.Upstream)
	if err != nil {
		return nil
	}
	return u
}

// ResolveCacheDir turns cache_dir into a directory to use, or "" for none:
// empty means <os.UserCacheDir()>/wasmcluster, "off" means none. A user
// without a cache directory (no $HOME nor $XDG_CACHE_HOME) gets a
// *FieldError naming cache_dir: the snapshots need a directory, and
// silently serving from elsewhere would hide where they went.
func (c Config) ResolveCacheDir() (string, error) {
	switch c.CacheDir {
	case CacheDirOff:
		return "", nil
	case "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", &FieldError{Key: "cache_dir", Value: c.CacheDir,
				Msg: fmt.Sprintf("empty means <user cache dir>/wasmcluster, but there is none (%v); set cache_dir (--cache-dir) to a writable directory, or off", err)}
		}
		return filepath.Join(dir, "wasmcluster"), nil
	default:
		return c.CacheDir, nil
	}
}
