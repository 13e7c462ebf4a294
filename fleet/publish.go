package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// KeepVersions is how many published versions of a name the history keeps
// (their bytes included); older ones are deleted from the object store.
const KeepVersions = 10

// History is a name's published versions (SHA-256 hex), newest first: the
// first is the one instances should run.
func (c *Conn) History(ctx context.Context) ([]string, uint64, error) {
	ctx, cancel := c.op(ctx)
	defer cancel()
	kvb, err := c.kvBucket(ctx, c.Src.versionsBucket(), 0)
	if err != nil {
		return nil, 0, err
	}
	e, err := kvb.Get(ctx, c.Src.Name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: history: %w", c.Src, err)
	}
	var h []string
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return nil, 0, fmt.Errorf("%s: history: %w", c.Src, err)
	}
	return h, e.Revision(), nil
}

// PublishOptions tune a publish.
type PublishOptions struct {
	// MaxUnavailable, when > 0, lets at most this many instances roll to
	// the version at once: each takes one of as many roll slots first
	// (slots.go). 0: every instance rolls as soon as it sees the version.
	MaxUnavailable int
}

// Publish makes data the version of the source's name, keeps it in the
// history and returns its SHA-256 (hex). Checking it is the caller's job.
func (c *Conn) Publish(ctx context.Context, data []byte) (string, error) {
	return c.PublishWith(ctx, data, PublishOptions{})
}

// PublishWith is Publish with options.
func (c *Conn) PublishWith(ctx context.Context, data []byte, o PublishOptions) (string, error) {
	if o.MaxUnavailable < 0 {
		return "", fmt.Errorf("max unavailable %d: want 0 (no bound) or more", o.MaxUnavailable)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	h, rev, err := c.History(ctx)
	if err != nil {
		return "", err
	}
	h = append([]string{hash}, slices.DeleteFunc(h, func(v string) bool { return v == hash })...)
	return hash, c.setVersion(ctx, data, h, rev, o)
}

// Rollback re-publishes the version before the current one and drops the
// current one from the history; it returns the version now published.
func (c *Conn) Rollback(ctx context.Context) (string, error) {
	return c.RollbackWith(ctx, PublishOptions{})
}

// RollbackWith is Rollback with options.
func (c *Conn) RollbackWith(ctx context.Context, o PublishOptions) (string, error) {
	h, rev, err := c.History(ctx)
	if err != nil {
		return "", err
	}
	if len(h) < 2 {
		return "", fmt.Errorf("%s: no previous version to roll back to (history holds %d)", c.Src, len(h))
	}
	prev := h[1]
	data, got, err := c.Fetch(ctx, c.Src.versionObject(prev))
	if err != nil {
		return "", err
	}
	if got != prev {
		return "", fmt.Errorf("%s: version %s in the history holds %s", c.Src, prev, got)
	}
	return prev, c.setVersion(ctx, data, h[1:], rev, o)
}

// setVersion stores data under its history name and the watched name,
// then the history (compare-and-set on rev: two publishers at once fail
// one of them rather than lose a version), then prunes old versions.
func (c *Conn) setVersion(ctx context.Context, data []byte, h []string, rev uint64, o PublishOptions) error {
	ctx, cancel := c.op(ctx)
	defer cancel()
	obs, err := c.objects(ctx, true)
	if err != nil {
		return fmt.Errorf("%s: object store: %w", c.Src, err)
	}
	var drop []string
	if len(h) > KeepVersions {
		h, drop = h[:KeepVersions], h[KeepVersions:]
	}
	if _, err := obs.PutBytes(ctx, c.Src.versionObject(h[0]), data); err != nil {
		return fmt.Errorf("%s: upload: %w", c.Src, err)
	}
	kvb, err := c.kvBucket(ctx, c.Src.versionsBucket(), 0)
	if err != nil {
		return err
	}
	enc, _ := json.Marshal(h)
	if rev == 0 {
		_, err = kvb.Create(ctx, c.Src.Name, enc)
	} else {
		_, err = kvb.Update(ctx, c.Src.Name, enc, rev)
	}
	if err != nil {
		return fmt.Errorf("%s: history changed meanwhile (another publish?), try again: %w", c.Src, err)
	}
	meta := jetstream.ObjectMeta{Name: c.Src.Name}
	if o.MaxUnavailable > 0 {
		meta.Metadata = map[string]string{metaMaxUnavailable: strconv.Itoa(o.MaxUnavailable)}
	}
	if _, err := obs.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("%s: upload: %w", c.Src, err)
	}
	// A version published to all supersedes any canary, also one a dead
	// publish left behind: its instances follow the object again.
	kvb.Delete(ctx, c.Src.canaryKey())
	for _, v := range drop {
		obs.Delete(ctx, c.Src.versionObject(v)) // best effort: a leftover only costs space
	}
	return nil
}
