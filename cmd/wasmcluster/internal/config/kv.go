package config

import (
	"strconv"
	"strings"
	"time"
)

// KVConfig is the [kv] section: the shared key-value store plugins reach
// through the kv_* host functions (package abi/guest/kv).
type KVConfig struct {
	URL       string        `toml:"url" help:"shared key-value store: empty runs the embedded store (a NATS JetStream server in this process, data in kv.dir); nats://host:4222[,nats://…] an external NATS cluster; redis://host:6379 or rediss://… Redis; \"off\" none (plugins importing kv_* functions are refused)"`
	Dir       string        `toml:"dir" help:"where the embedded store keeps its data; empty means a directory per listen address (listen-<address>) under $STATE_DIRECTORY/kv (systemd StateDirectory=), else $XDG_STATE_HOME/wasmcluster/kv, else ~/.local/state/wasmcluster/kv"`
	Bucket    string        `toml:"bucket" help:"NATS KV bucket, or Redis key namespace: letters, digits, - and _"`
	Replicas  int           `toml:"replicas" help:"replicas of the NATS bucket on a cluster: 1, 3 or 5"`
	MaxValue  Size          `toml:"max_value" help:"largest value a plugin may store (e.g. 1MiB); larger is an error in the plugin (too_large)"`
	Timeout   time.Duration `toml:"timeout" help:"time limit for one store call, within the request's own deadline; past it the plugin sees a timeout"`
	CredsFile string        `toml:"creds_file" help:"NATS credentials file (JWT + nkey seed) for an external cluster"`
	NKeyFile  string        `toml:"nkey_file" help:"NATS nkey seed file for an external cluster"`
	TokenFile string        `toml:"token_file" help:"file holding the NATS token for an external cluster (a file, so the secret is in no flag, environment variable or config output)"`
}

// KVOff is the kv.url value that turns the store off.
const KVOff = "off"

func defaultKV() KVConfig {
	return KVConfig{Bucket: "wasmcluster", Replicas: 1, MaxValue: 1 << 20, Timeout: 3 * time.Second}
}

// KVScheme classifies kv.url: "embedded", "off", "nats", "redis", or ""
// when it is none of them.
func (k KVConfig) KVScheme() string {
	u := strings.TrimSpace(k.URL)
	switch {
	case u == "" || u == "embedded":
		return "embedded"
	case u == KVOff:
		return KVOff
	case strings.HasPrefix(u, "nats://") || strings.HasPrefix(u, "tls://"):
		return "nats"
	case strings.HasPrefix(u, "redis://") || strings.HasPrefix(u, "rediss://"):
		return "redis"
	}
	return ""
}

// validateKV checks the kv.* keys.
func (c Config) validateKV(errs *fieldErrors) {
	bad, k := errs.bad, c.KV
	if k.KVScheme() == "" {
		bad("kv.url", k.URL, `want empty (embedded), off, nats://host:port[,nats://…] or redis[s]://host:port`)
	}
	if k.Replicas != 1 && k.Replicas != 3 && k.Replicas != 5 {
		bad("kv.replicas", strconv.Itoa(k.Replicas), "must be 1, 3 or 5")
	}
	if k.MaxValue < 1 || k.MaxValue > 64<<20 {
		bad("kv.max_value", k.MaxValue.String(), "must be between 1B and 64MiB")
	}
	if k.Timeout <= 0 || k.Timeout > time.Minute {
		bad("kv.timeout", formatDuration(k.Timeout), "must be positive and at most 1m (a store call holds a request)")
	}
	if k.Bucket == "" || strings.Trim(k.Bucket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		bad("kv.bucket", k.Bucket, "must be letters, digits, - or _")
	}
}
