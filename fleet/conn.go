package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/natskv"
)

// Auth are the credentials of the connection: the kv.* ones (Token,
// CredsFile, NKeyFile; Timeout bounds each call, default 5s).
type Auth = kv.Config

// Conn is a connection to a source's NATS servers. It reconnects forever
// in the background: calls fail while the servers are away.
type Conn struct {
	Src     Source
	nc      *nats.Conn
	js      jetstream.JetStream
	timeout time.Duration
	// Log gets a publish's retries (WARN); nil: slog.Default().
	Log *slog.Logger
}

// Dial connects to src. An unreachable server does not fail Dial (the
// connection keeps retrying); bad credentials files do.
func Dial(src Source, auth Auth) (*Conn, error) {
	if auth.Timeout <= 0 {
		auth.Timeout = 5 * time.Second
	}
	opts, err := natskv.ConnectOptions(auth)
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.Name("wasmcluster-fleet"))
	nc, err := nats.Connect(strings.Join(src.Servers, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: jetstream: %w", src, err)
	}
	return &Conn{Src: src, nc: nc, js: js, timeout: auth.Timeout}, nil
}

// Close closes the connection.
func (c *Conn) Close() { c.nc.Close() }

// Connected reports whether the connection is up now.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// WaitConnected waits up to d for the connection to be up.
func (c *Conn) WaitConnected(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !c.nc.IsConnected() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

// ErrUnreachable is returned when no NATS server of the source answers.
var ErrUnreachable = errors.New("NATS unreachable")

// op bounds one call.
func (c *Conn) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// objects binds the source's object store; create makes it if missing.
func (c *Conn) objects(ctx context.Context, create bool) (jetstream.ObjectStore, error) {
	if !c.nc.IsConnected() {
		return nil, fmt.Errorf("%s: %w", c.Src, ErrUnreachable)
	}
	obs, err := c.js.ObjectStore(ctx, c.Src.Bucket)
	if create && errors.Is(err, jetstream.ErrBucketNotFound) {
		// Only when missing: an update would reset a bucket the operator
		// made (its replicas, limits) to these defaults.
		return c.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: c.Src.Bucket, Description: "wasmcluster plugins"})
	}
	return obs, err
}

// Fetch returns the bytes of object name and their SHA-256 (hex), checked
// against the digest the object store recorded.
func (c *Conn) Fetch(ctx context.Context, name string) ([]byte, string, error) {
	data, hash, _, err := c.fetch(ctx, name)
	return data, hash, err
}

// fetch is Fetch, with the object's info (its metadata).
func (c *Conn) fetch(ctx context.Context, name string) ([]byte, string, *jetstream.ObjectInfo, error) {
	ctx, cancel := c.op(ctx)
	defer cancel()
	obs, err := c.objects(ctx, false)
	if err != nil {
		return nil, "", nil, err
	}
	res, err := obs.Get(ctx, name)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: object %s: %w", c.Src, name, err)
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: object %s: %w", c.Src, name, err)
	}
	data, err := io.ReadAll(res) // nats.go checks the digest at the end too
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: object %s: %w", c.Src, name, err)
	}
	sum := sha256.Sum256(data)
	if want := "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:]); info.Digest != want {
		return nil, "", nil, fmt.Errorf("%s: object %s: digest %s, the bytes read hash to %s", c.Src, name, info.Digest, want)
	}
	return data, hex.EncodeToString(sum[:]), info, nil
}

// info is object name's info, without its bytes.
func (c *Conn) info(ctx context.Context, name string) (*jetstream.ObjectInfo, error) {
	ctx, cancel := c.op(ctx)
	defer cancel()
	obs, err := c.objects(ctx, false)
	if err != nil {
		return nil, err
	}
	return obs.GetInfo(ctx, name)
}

// digestHex is the SHA-256 (hex) the object store recorded for an object,
// "" if it is not one.
func digestHex(info *jetstream.ObjectInfo) string {
	b, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(info.Digest, "SHA-256="))
	if err != nil || !strings.HasPrefix(info.Digest, "SHA-256=") {
		return ""
	}
	return hex.EncodeToString(b)
}

// kvBucket binds (creating it if missing) a KV bucket beside the object
// store; ttl > 0 expires its entries.
func (c *Conn) kvBucket(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	if !c.nc.IsConnected() {
		return nil, fmt.Errorf("%s: %w", c.Src, ErrUnreachable)
	}
	kvb, err := c.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kvb, err = c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: kv bucket %s: %w", c.Src, name, err)
	}
	return kvb, nil
}
