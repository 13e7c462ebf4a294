package rediskv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/wasmcluster/wasmcluster/kv"
)

// Store is a kv.Store on Redis.
type Store struct {
	cfg     kv.Config
	rdb     *redis.Client
	ns      string // "wasmcluster:{<bucket>}:"; the hash tag keeps a bucket in one slot
	counter string // the bucket's revision counter
}

var _ kv.Store = (*Store)(nil)

// Open makes a client for cfg.URL (redis:// or rediss://, with the
// password and database in the URL). It does not connect: an unreachable
// server makes calls fail with kv.ErrUnavailable and Health report it,
// until it is back.
//
// The client never retries a command by itself: a reply lost to a broken
// connection is ErrUnavailable, and the write was applied at most once.
func Open(_ context.Context, cfg kv.Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("kv.url = %q: %w", redact(cfg.URL), err)
	}
	quietOnce.Do(func() { redis.SetLogger(debugLogger{}) })
	opts.MaxRetries = -1
	opts.DialTimeout = cfg.Timeout
	opts.ReadTimeout = cfg.Timeout
	opts.WriteTimeout = cfg.Timeout
	opts.ContextTimeoutEnabled = true
	opts.DialerRetries = 1
	opts.DisableIdentity = true
	ns := "wasmcluster:{" + cfg.Bucket + "}:"
	return &Store{cfg: cfg, rdb: redis.NewClient(opts), ns: ns, counter: ns + "rev"}, nil
}

// go-redis logs every failed dial to stderr through a process-wide logger;
// those failures already reach callers as ErrUnavailable and Health, so
// its log goes to slog at Debug.
var quietOnce sync.Once

type debugLogger struct{}

func (debugLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "kv-redis")
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Backend is "redis".
func (s *Store) Backend() string { return "redis" }

// MaxValue is kv.max_value.
func (s *Store) MaxValue() int { return s.cfg.MaxValue }

// Health pings the server.
func (s *Store) Health(ctx context.Context) error {
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	return s.mapErr("ping", s.rdb.Ping(ctx).Err())
}

// Close closes the client's connections.
func (s *Store) Close() error { return s.rdb.Close() }

func (s *Store) dataKey(key []byte) string { return s.ns + "k:" + string(key) }

// mapErr turns a Redis error into one wrapping a kv sentinel.
func (s *Store) mapErr(op string, err error) error {
	var rerr redis.Error
	switch {
	case err == nil:
		return nil
	case kv.IsTransient(err), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed):
		return kv.Unavailable("redis: "+op, err)
	case errors.As(err, &rerr):
		msg := rerr.Error()
		switch {
		case strings.HasPrefix(msg, "CONFLICT"):
			return fmt.Errorf("%w: %s", kv.ErrConflict, strings.TrimPrefix(msg, "CONFLICT "))
		case strings.HasPrefix(msg, "NOTNUMBER"):
			return fmt.Errorf("%w: %s", kv.ErrNotNumber, strings.TrimPrefix(msg, "NOTNUMBER "))
		case hasAnyPrefix(msg, "LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN"):
			return kv.Unavailable("redis: "+op, err)
		}
	}
	return fmt.Errorf("kv: redis: %s: %w", op, err)
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
