package natskv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmcluster/wasmcluster/kv"
)

// Store is a kv.Store on a NATS JetStream KV bucket.
type Store struct {
	cfg  kv.Config
	nc   *nats.Conn
	js   jetstream.JetStream
	pre  string // the bucket's subject prefix, "$KV.<bucket>."
	name string // the bucket's stream, "KV_<bucket>"

	incrLocks keyLocks

	mu     sync.Mutex
	bucket jetstream.KeyValue // nil until the bucket is bound
	stream jetstream.Stream
}

var _ kv.Store = (*Store)(nil)

// limitMarkerTTL is how long the bucket keeps the marker a TTL expiry or a
// delete leaves: long enough for a CAS that read the old revision to see
// the key is gone, short enough that deleted keys do not pile up.
const limitMarkerTTL = time.Minute

// headroom is what a message carries besides the value (its subject and
// headers: message id, TTL, expiry, expected revision), allowed on top of
// kv.max_value in the bucket's message size limit. A NATS server needs a
// max_payload of at least kv.max_value plus this.
const headroom = 64 << 10

// Open connects to cfg.URL (a comma-separated list of nats:// URLs) or,
// with cfg.InProcess, to a server in this process, and binds or creates
// the bucket. A server that is unreachable does not fail Open: the
// connection retries forever with backoff, calls fail with
// kv.ErrUnavailable and Health reports it until the server is back. Bad
// settings (replicas, an unreadable nkey file) are errors naming the key.
func Open(ctx context.Context, cfg kv.Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts, err := ConnectOptions(cfg)
	if err != nil {
		return nil, err
	}
	url := cfg.URL
	switch {
	case cfg.InProcess != nil:
		url = nats.DefaultURL // unused by the in-process connection
	case cfg.Scheme() != "nats":
		return nil, fmt.Errorf("kv.url = %q: natskv needs nats:// URLs or an in-process server", kv.RedactURL(cfg.URL))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("kv.url = %q: %w", kv.RedactURL(cfg.URL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("kv: jetstream: %w", err)
	}
	s := &Store{cfg: cfg, nc: nc, js: js, pre: "$KV." + cfg.Bucket + ".", name: "KV_" + cfg.Bucket}
	octx, cancel := kv.Op(ctx, cfg.Timeout)
	defer cancel()
	if _, err := s.bound(octx); err != nil && !errors.Is(err, kv.ErrUnavailable) {
		nc.Close()
		return nil, err
	}
	return s, nil
}

// ConnectOptions are the nats.go options of a connection to cfg's servers:
// credentials (token, creds file, nkey seed), retry forever with jittered
// backoff, no buffering while disconnected. The fleet's plugin source uses
// them too, so one set of kv.* credentials reaches both.
func ConnectOptions(cfg kv.Config) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("wasmcluster-kv"),
		nats.Timeout(cfg.Timeout),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		// No buffering while disconnected: a write fails at once with
		// ErrUnavailable instead of being sent, unacknowledged, later.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(2 * time.Second),
		nats.MaxPingsOutstanding(2),
	}
	if cfg.InProcess != nil {
		opts = append(opts, nats.InProcessServer(cfg.InProcess))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kv.nkey_file = %q: %w", cfg.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// reconnectDelay backs off exponentially from 50 ms to 2 s with jitter, so
// a fleet of workers does not reconnect in lockstep after an outage.
func reconnectDelay(attempts int) time.Duration {
	d := 50 * time.Millisecond << min(attempts, 6)
	d = min(d, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}

// bound returns the bucket, binding it (or creating it) on first use.
func (s *Store) bound(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucket != nil {
		return s.bucket, nil
	}
	b, err := s.bindBucket(ctx)
	if err != nil {
		return nil, s.mapErr("bind bucket "+s.cfg.Bucket, err)
	}
	st, err := s.js.Stream(ctx, s.name)
	if err == nil {
		st, err = s.tuneDuplicates(ctx, st)
	}
	if err != nil {
		return nil, s.mapErr("bind bucket "+s.cfg.Bucket, err)
	}
	s.bucket, s.stream = b, st
	return b, nil
}

// kvDefaultDuplicates is the duplicate window nats.go gives a new bucket.
const kvDefaultDuplicates = 2 * time.Minute

// tuneDuplicates sets the stream's duplicate window to what a resend
// needs: publish sends a write again at most kv.timeout after the first
// copy. The server keeps every message id for the window, so the KV
// default of 2 minutes would cost memory in proportion to the write rate
// for nothing; a window some other client raised is left alone.
func (s *Store) tuneDuplicates(ctx context.Context, st jetstream.Stream) (jetstream.Stream, error) {
	want := max(5*time.Second, 2*s.cfg.Timeout)
	cfg := st.CachedInfo().Config
	if cfg.Duplicates == want || (cfg.Duplicates > want && cfg.Duplicates != kvDefaultDuplicates) {
		return st, nil
	}
	cfg.Duplicates = want
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("setting the duplicate window of %s to %v: %w", s.name, want, err)
	}
	return s.js.Stream(ctx, s.name)
}

func (s *Store) bucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:         s.cfg.Bucket,
		Description:    "wasmcluster shared state",
		History:        1,
		Replicas:       s.cfg.Replicas,
		Storage:        jetstream.FileStorage,
		MaxValueSize:   int32(s.cfg.MaxValue + headroom),
		LimitMarkerTTL: limitMarkerTTL,
	}
}

// bindBucket uses an existing bucket (one with per-key TTL, else it is
// updated to allow it) or creates it.
func (s *Store) bindBucket(ctx context.Context) (jetstream.KeyValue, error) {
	b, err := s.js.KeyValue(ctx, s.cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		b, err = s.js.CreateKeyValue(ctx, s.bucketConfig())
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			b, err = s.js.KeyValue(ctx, s.cfg.Bucket)
		}
	}
	if err != nil {
		return nil, err
	}
	st, err := b.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.LimitMarkerTTL() == 0 {
		if b, err = s.js.UpdateKeyValue(ctx, s.bucketConfig()); err != nil {
			return nil, fmt.Errorf("kv.bucket = %q exists without per-key TTL and cannot be updated: %w", s.cfg.Bucket, err)
		}
	}
	return b, nil
}

// Backend is "embedded" for the primary's server, else "nats".
func (s *Store) Backend() string {
	if s.cfg.Embedded {
		return "embedded"
	}
	return "nats"
}

// MaxValue is kv.max_value.
func (s *Store) MaxValue() int { return s.cfg.MaxValue }

// Health asks the bucket's stream leader for the stream's state: nil only
// when the server is connected and the bucket has a leader.
func (s *Store) Health(ctx context.Context) error {
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	if st := s.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("%w: nats: %s to %s", kv.ErrUnavailable, strings.ToLower(st.String()), kv.RedactURL(s.cfg.URL))
	}
	if _, err := s.bound(ctx); err != nil {
		return err
	}
	if _, err := s.stream.Info(ctx); err != nil {
		return s.mapErr("health", err)
	}
	return nil
}

// Close closes the connection.
func (s *Store) Close() error {
	s.nc.Close()
	return nil
}
