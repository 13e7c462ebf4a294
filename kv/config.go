package kv

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The kv.url values that are not URLs.
const (
	URLEmbedded = "embedded" // the default: the primary's in-process NATS server
	URLOff      = "off"      // no store
)

// Defaults of the zero Config's fields.
const (
	DefaultBucket  = "wasmcluster"
	DefaultTimeout = 3 * time.Second
	// MaxTimeout bounds kv.timeout: a store call holds a guest's request.
	MaxTimeout = time.Minute
)

// Config selects and tunes a store. The zero value means: the embedded
// server, data under DefaultDir, bucket DefaultBucket, 1 replica, values up
// to DefaultMaxValue, DefaultTimeout per call, no credentials. It is plain
// JSON so it travels to worker processes as is; InProcess stays behind.
type Config struct {
	// URL is "" or "embedded" (the primary's embedded server), "off", a
	// comma-separated list of nats:// (or tls://) URLs, or one redis:// or
	// rediss:// URL (kv.url).
	URL string `json:"url,omitempty"`
	// Dir is where the embedded server keeps its data (kv.dir);
	// "" is DefaultDir().
	Dir string `json:"dir,omitempty"`
	// Bucket names the NATS KV bucket, or the Redis key namespace
	// (kv.bucket); "" is DefaultBucket.
	Bucket string `json:"bucket,omitempty"`
	// Replicas is the bucket's replica count on a NATS cluster: 1, 3 or 5
	// (kv.replicas); 0 is 1.
	Replicas int `json:"replicas,omitempty"`
	// MaxValue is the longest value in bytes (kv.max_value); 0 is
	// DefaultMaxValue.
	MaxValue int `json:"max_value,omitempty"`
	// Timeout bounds each store call, on top of the caller's deadline
	// (kv.timeout); 0 is DefaultTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	// CredsFile, NKeyFile and Token authenticate to NATS (kv.creds_file,
	// kv.nkey_file, kv.token); Token is also the embedded server's
	// generated secret once WorkerConfig has filled it in.
	CredsFile string `json:"creds_file,omitempty"`
	NKeyFile  string `json:"nkey_file,omitempty"`
	Token     string `json:"token,omitempty"`
	// Embedded marks a nats:// URL that is the primary's embedded server
	// (set by embedded.Server.WorkerConfig): Backend reports "embedded".
	Embedded bool `json:"embedded,omitempty"`
	// InProcess, when set, connects to an embedded server in the same
	// process without a socket (--workers 0); see embedded.Server.
	InProcess InProcessConn `json:"-"`
}

// InProcessConn is what an in-process NATS server offers a client in the
// same process (nats.InProcessConnProvider's method).
type InProcessConn interface {
	InProcessConn() (net.Conn, error)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.URL == "" {
		c.URL = URLEmbedded
	}
	if c.Dir == "" {
		c.Dir = DefaultDir()
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxValue == 0 {
		c.MaxValue = DefaultMaxValue
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

var bucketRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate checks c (after WithDefaults) and returns an error naming the
// key and its value for the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5:
		return fmt.Errorf("kv.replicas = %d: must be 1, 3 or 5", c.Replicas)
	case c.MaxValue < 1 || c.MaxValue > MaxMaxValue:
		return fmt.Errorf("kv.max_value = %d: must be 1..%d", c.MaxValue, MaxMaxValue)
	case c.Timeout <= 0 || c.Timeout > MaxTimeout:
		return fmt.Errorf("kv.timeout = %v: must be above 0 and at most %v", c.Timeout, MaxTimeout)
	case !bucketRe.MatchString(c.Bucket):
		return fmt.Errorf("kv.bucket = %q: must be letters, digits, '-' or '_'", c.Bucket)
	}
	return c.checkURL()
}

func (c Config) checkURL() error {
	switch c.Scheme() {
	case URLEmbedded, URLOff, "redis":
		return nil
	case "nats":
		for _, u := range strings.Split(c.URL, ",") {
			u = strings.TrimSpace(u)
			if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") || len(u) <= len("nats://") {
				return fmt.Errorf("kv.url = %q: %q is not a nats:// or tls:// URL", c.URL, u)
			}
		}
		return nil
	}
	return fmt.Errorf("kv.url = %q: want embedded, off, nats://host:port[,…] or redis[s]://host:port", c.URL)
}

// Scheme classifies URL: "embedded" (also for ""), "off", "nats", "redis",
// or "" when it is none of them.
func (c Config) Scheme() string {
	u := strings.TrimSpace(c.URL)
	switch {
	case u == "" || u == URLEmbedded:
		return URLEmbedded
	case u == URLOff:
		return URLOff
	case strings.HasPrefix(u, "nats://") || strings.HasPrefix(u, "tls://"):
		return "nats"
	case strings.HasPrefix(u, "redis://") || strings.HasPrefix(u, "rediss://"):
		return "redis"
	}
	return ""
}

// DefaultDir is kv.dir's default: systemd's $STATE_DIRECTORY (the unit's
// StateDirectory=), else $XDG_STATE_HOME/wasmcluster/kv, else
// ~/.local/state/wasmcluster/kv, else a directory below the temp dir.
func DefaultDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		first, _, _ := strings.Cut(d, ":")
		return filepath.Join(first, "kv")
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "wasmcluster", "kv")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "wasmcluster", "kv")
	}
	return filepath.Join(os.TempDir(), "wasmcluster-kv")
}

// LogValue keeps secrets out of logs: slog prints a Config with its Token
// as "***" and without InProcess.
func (c Config) LogValue() slog.Value {
	token := ""
	if c.Token != "" {
		token = "***"
	}
	return slog.GroupValue(
		slog.String("url", RedactURL(c.URL)), slog.String("dir", c.Dir), slog.String("bucket", c.Bucket),
		slog.Int("replicas", c.Replicas), slog.Int("max_value", c.MaxValue), slog.Duration("timeout", c.Timeout),
		slog.String("creds_file", c.CredsFile), slog.String("nkey_file", c.NKeyFile), slog.String("token", token),
		slog.Bool("embedded", c.Embedded))
}

// RedactURL hides user:password in each of a comma-separated list of URLs,
// for errors and logs.
func RedactURL(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if scheme, rest, ok := strings.Cut(p, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				parts[i] = scheme + "://***@" + rest[at+1:]
			}
		}
	}
	return strings.Join(parts, ",")
}
