package host

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"time"
)

// Config tunes a Plugin. The zero value of every field is a documented
// default, so Config{} is valid.
//
// A Config is JSON-encodable, so it can travel as it is to another process
// (a worker loading the same plugin): every field but Logger, Next, KV and
// OnStuck, which the receiving process sets itself.
type Config struct {
	// Name tags the plugin in logs (e.g. the file name). Defaults to "plugin".
	Name string `json:"name,omitempty"`

	// CacheDir is the on-disk wazero compilation cache shared by every process
	// serving the same plugin. Entries are keyed by the module's content and
	// the runtime settings. Empty means no on-disk cache (compile in memory).
	// It must be private to the server's user (see ErrUnsafeCache); when it
	// cannot be written, plugins are compiled in memory.
	CacheDir string `json:"cache_dir,omitempty"`

	// GuestConfig is returned to the guest by get_config. Defaults to empty.
	GuestConfig []byte `json:"guest_config,omitempty"`

	// Upstream, when set, makes next a streaming reverse proxy to this URL.
	// When nil, next answers a built-in 404. In JSON it is "upstream", the
	// URL as a string (see MarshalJSON).
	Upstream *url.URL `json:"-"`

	// UpstreamCA is PEM: certificates an https Upstream's certificate may
	// chain to besides the system's roots (a private CA). The upstream's
	// certificate is always verified. Defaults to none.
	UpstreamCA []byte `json:"upstream_ca,omitempty"`

	// Next overrides the next handler (used by tests and embedders). It takes
	// precedence over Upstream.
	Next http.Handler `json:"-"`

	// PoolSize is how many guest instances are prewarmed and kept idle.
	// Under load the pool grows past it, up to the bound MemoryBudget
	// allows. Defaults to 2*GOMAXPROCS.
	PoolSize int `json:"pool_size,omitempty"`

	// MemoryBudget bounds the pool's growth: the guest linear memory one
	// plugin's instances may reserve together, each counted at its cap
	// (MemoryLimitPages, or the module's own smaller maximum). The pool
	// never holds fewer than PoolSize instances nor more than
	// MaxPoolInstances. Defaults to 1 GiB.
	MemoryBudget int64 `json:"memory_budget,omitempty"`

	// PoolWait bounds how long a request waits for an instance once every
	// instance is busy and the pool is at its bound; past it the request is
	// answered 503 with Retry-After (counted in Stats.Rejected), instead of
	// queueing until its deadline. Defaults to 1s.
	PoolWait time.Duration `json:"pool_wait,omitempty"`

	// PoolKeep is how long instances created past PoolSize stay in the
	// pool after a request last found no idle instance. A request waiting
	// on I/O (the shared store, outbound HTTP, next) holds its instance, so
	// steady load can keep more than PoolSize busy; closing the extras as
	// soon as PoolSize are idle would instantiate a guest per request.
	// Zero closes them at once. Bounded by MemoryBudget like the rest.
	PoolKeep time.Duration `json:"pool_keep,omitempty"`

	// RequestTimeout bounds one request inside the guest, next included;
	// a request past it is answered 504. Defaults to 30s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`

	// MaxRequestBody is the largest request body accepted, in bytes; larger is
	// answered 413. Defaults to 10 MiB. Negative means unlimited.
	MaxRequestBody int64 `json:"max_request_body,omitempty"`

	// MaxBufferedResponse bounds how much of next's response the host holds
	// for handle_response when the guest enabled buffer_response; a larger
	// response is answered 502. Defaults to 32 MiB.
	MaxBufferedResponse int64 `json:"max_buffered_response,omitempty"`

	// MemoryLimitPages caps each instance's linear memory in 64 KiB pages; a
	// memory.grow beyond it fails inside the guest. Defaults to 1024 (64 MiB).
	MemoryLimitPages uint32 `json:"memory_limit_pages,omitempty"`

	// InitTimeout bounds instantiating and initializing one instance
	// (`_initialize` or `_start`), so a guest that hangs there is refused
	// instead of hanging the load. Compilation is not included: it is bounded
	// by the caller's context. Defaults to 10s.
	InitTimeout time.Duration `json:"init_timeout,omitempty"`

	// Logger receives host logs, guest log calls and guest stdout/stderr.
	// Defaults to slog.Default().
	Logger *slog.Logger `json:"-"`

	// Uninterruptible turns off wazero's close-on-context-done, which costs
	// ~2 µs per request and slows Go guest code several times (RATIONALE.md).
	// A guest then cannot be stopped at its deadline: a looping guest spins
	// until the process ends, and freezes the whole process at the next GC.
	// Use it only where something outside can kill the process: the host then
	// calls OnStuck once when a request has run past RequestTimeout plus a
	// grace of a second, and the caller is expected to end the process
	// (workers do, and the primary replaces them). Defaults to false.
	Uninterruptible bool `json:"uninterruptible,omitempty"`

	// Env is the guest's whole WASI environment, in order: nothing of the
	// server's own environment reaches the guest unless listed here. It
	// travels to workers with the rest of Config (over the worker's
	// private socket), so never log a Config. Defaults to empty.
	Env []EnvVar `json:"env,omitempty"`

	// Mounts are the only parts of the file system the guest sees, as WASI
	// preopens; escapes out of a mount (through "..", an absolute path or a
	// symbolic link) are refused. Each HostDir must be a directory. Mounts
	// are instantiate-time grants: they do not change what is compiled or
	// its cache entry. Defaults to none.
	Mounts []Mount `json:"mounts,omitempty"`
	// KV is the shared key-value store behind the kv_* host functions
	// (abi/kv.go), set by the process that creates the Plugin. When nil the
	// store is off: a plugin importing any kv_* function is refused at load,
	// naming the setting (kv.url = "off").
	KV KV `json:"-"`

	// KVMaxValue is the largest value kv_set and kv_cas accept, in bytes;
	// larger is StatusTooLarge in the guest. Defaults to 1 MiB.
	KVMaxValue int64 `json:"kv_max_value,omitempty"`

	// KVTimeout bounds one store call (within the request's own deadline);
	// past it the guest sees StatusTimeout. Defaults to 3s.
	KVTimeout time.Duration `json:"kv_timeout,omitempty"`

	// OnStuck is called (from a watchdog goroutine) when Uninterruptible is
	// set and a request is stuck in the guest; see Uninterruptible. When nil
	// the stuck request is only logged.
	OnStuck func(age time.Duration) `json:"-"`

	// Outbound makes the guest's outbound HTTP calls (outbound.go); nil
	// means outbound HTTP is not granted. Set by the process creating the
	// Plugin, from OutboundGrant.
	Outbound Outbound `json:"-"`

	// OutboundGrant is the operator's outbound HTTP grant and its limits.
	OutboundGrant OutboundGrant `json:"outbound,omitzero"`
}

// Defaults for the zero values of Config.
const (
	DefaultName             = "plugin"
	DefaultRequestTimeout   = 30 * time.Second
	DefaultMaxRequestBody   = 10 << 20
	DefaultMemoryLimitPages = 1024
	DefaultInitTimeout      = 10 * time.Second
	DefaultMaxBufferedResp  = 32 << 20
	DefaultMemoryBudget     = 1 << 30
	DefaultPoolWait         = time.Second
	DefaultKVMaxValue       = 1 << 20
	DefaultKVTimeout        = 3 * time.Second
)

// MaxPoolInstances caps the pool whatever the memory budget: an instance
// costs more than its linear memory (its compiled state, Go guests' runtime).
const MaxPoolInstances = 4096

// DefaultPoolSize is the pool size used when Config.PoolSize is zero.
func DefaultPoolSize() int { return 2 * runtime.GOMAXPROCS(0) }

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize()
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.PoolWait <= 0 {
		c.PoolWait = DefaultPoolWait
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxRequestBody == 0 {
		c.MaxRequestBody = DefaultMaxRequestBody
	}
	if c.MemoryLimitPages == 0 {
		c.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if c.MaxBufferedResponse <= 0 {
		c.MaxBufferedResponse = DefaultMaxBufferedResp
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.KVMaxValue <= 0 {
		c.KVMaxValue = DefaultKVMaxValue
	}
	if c.KVTimeout <= 0 {
		c.KVTimeout = DefaultKVTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.OutboundGrant = c.OutboundGrant.withDefaults()
	return c
}

// plainConfig is Config without its methods, so encoding it inside
// configJSON does not call MarshalJSON again.
type plainConfig Config

// configJSON is Config's JSON form. Upstream is its URL string: encoded as
// a struct, a *url.URL would lose its user info (url.Userinfo has no
// exported fields).
type configJSON struct {
	plainConfig
	Upstream string `json:"upstream,omitempty"`
}

// MarshalJSON encodes every field but Logger, Next and OnStuck.
func (c Config) MarshalJSON() ([]byte, error) {
	j := configJSON{plainConfig: plainConfig(c)}
	if c.Upstream != nil {
		j.Upstream = c.Upstream.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON sets the fields present in b, as encoding/json does for a
// struct, and leaves the others (Logger, Next, OnStuck among them) as they
// were.
func (c *Config) UnmarshalJSON(b []byte) error {
	j := configJSON{plainConfig: plainConfig(*c)}
	if c.Upstream != nil {
		j.Upstream = c.Upstream.String()
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	cfg := Config(j.plainConfig)
	cfg.Upstream = nil
	if j.Upstream != "" {
		u, err := url.Parse(j.Upstream)
		if err != nil {
			return fmt.Errorf("host config: upstream: %w", err)
		}
		cfg.Upstream = u
	}
	*c = cfg
	return nil
}
