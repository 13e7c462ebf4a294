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
// first is the live one, the object NAME every instance follows. rev is the
// stored history's revision (0: none yet), for a compare-and-set.
//
// The history is written after the object (setVersion), so a publish or
// rollback that died between the two leaves a live object the stored
// history does not name first. History reads it as that write would have
// left it: a live version missing from it comes first; one further down
// comes first with the versions above it dropped (the ones a rollback
// stepped back from).
func (c *Conn) History(ctx context.Context) (h []string, rev uint64, err error) {
	var live string
	err = c.retry(ctx, "read history", func(ctx context.Context) error {
		if h, rev, err = c.storedHistory(ctx); err != nil {
			return err
		}
		live, err = c.live(ctx)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return reconcile(h, live), rev, nil
}

// reconcile is history h as it stands with live the live version.
func reconcile(h []string, live string) []string {
	if live == "" || len(h) > 0 && h[0] == live {
		return h
	}
	if i := slices.Index(h, live); i > 0 {
		return h[i:]
	}
	return append([]string{live}, h...)
}

// storedHistory is the history as the KV bucket holds it, and its revision.
func (c *Conn) storedHistory(ctx context.Context) ([]string, uint64, error) {
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

// live is the version of the object NAME, "" when there is none.
func (c *Conn) live(ctx context.Context) (string, error) {
	info, err := c.info(ctx, c.Src.Name)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: object %s: %w", c.Src, c.Src.Name, err)
	}
	return digestHex(info), nil
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
	ctx, cancel := context.WithTimeout(ctx, c.publishBudget())
	defer cancel()
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	h, rev, err := c.History(ctx) // its first is the live version
	if err != nil {
		return "", err
	}
	h = append([]string{hash}, slices.DeleteFunc(h, func(v string) bool { return v == hash })...)
	if err := c.setVersion(ctx, data, h, rev, o); err != nil {
		return "", err
	}
	return hash, nil
}

// Rollback re-publishes the version before the current one and drops the
// current one from the history; it returns the version now published.
func (c *Conn) Rollback(ctx context.Context) (string, error) {
	return c.RollbackWith(ctx, PublishOptions{})
}

// RollbackWith is Rollback with options.
func (c *Conn) RollbackWith(ctx context.Context, o PublishOptions) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.publishBudget())
	defer cancel()
	h, rev, err := c.History(ctx) // its first is the live version
	if err != nil {
		return "", err
	}
	if len(h) < 2 {
		return "", fmt.Errorf("%s: no previous version to roll back to (history holds %d)", c.Src, len(h))
	}
	prev := h[1]
	var data []byte
	var got string
	err = c.retry(ctx, "fetch previous", func(ctx context.Context) (err error) {
		data, got, err = c.Fetch(ctx, c.Src.versionObject(prev))
		return err
	})
	if err != nil {
		return "", err
	}
	if got != prev {
		return "", fmt.Errorf("%s: version %s in the history holds %s", c.Src, prev, got)
	}
	if err := c.setVersion(ctx, data, h[1:], rev, o); err != nil {
		return "", err
	}
	return prev, nil
}

// setVersion makes h[0] (data) the live version and h the history: it
// stores data under its history name, then under the watched name, then
// writes the history (compare-and-set on rev, the revision h was based
// on), then prunes old versions. The object goes first so the history
// never names as current a version no instance was sent: a publish that
// fails before the history write leaves the history as it was, and, when
// its upload landed all the same, History reads it as written.
func (c *Conn) setVersion(ctx context.Context, data []byte, h []string, rev uint64, o PublishOptions) error {
	var obs jetstream.ObjectStore
	err := c.retry(ctx, "object store", func(ctx context.Context) (err error) {
		obs, err = c.objects(ctx, true)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: object store: %w", c.Src, err)
	}
	var drop []string
	if len(h) > KeepVersions {
		h, drop = h[:KeepVersions], h[KeepVersions:]
	}
	if err := c.upload(ctx, obs, data, h[0], o); err != nil {
		return err
	}
	if err := c.writeHistory(ctx, h, rev); err != nil {
		return err
	}
	// A version published to all supersedes any canary, also one a dead
	// publish left behind: its instances follow the object again.
	if kvb, err := c.kvBucket(ctx, c.Src.versionsBucket(), 0); err == nil {
		kvb.Delete(ctx, c.Src.canaryKey())
	}
	for _, v := range drop {
		obs.Delete(ctx, c.Src.versionObject(v)) // best effort: a leftover only costs space
	}
	return nil
}

// upload stores data as version hash: its history copy, then the object
// every instance follows.
func (c *Conn) upload(ctx context.Context, obs jetstream.ObjectStore, data []byte, hash string, o PublishOptions) error {
	err := c.retry(ctx, "history copy", func(ctx context.Context) error {
		_, err := obs.PutBytes(ctx, c.Src.versionObject(hash), data)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: upload of %s failed, nothing published: %w", c.Src, hash, err)
	}
	meta := jetstream.ObjectMeta{Name: c.Src.Name}
	if o.MaxUnavailable > 0 {
		meta.Metadata = map[string]string{metaMaxUnavailable: strconv.Itoa(o.MaxUnavailable)}
	}
	err = c.retry(ctx, "upload", func(ctx context.Context) error {
		_, err := obs.Put(ctx, meta, bytes.NewReader(data))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: upload of %s failed; it may have reached the object all the same (the next publish, rollback or fleet shows which runs): %w",
			c.Src, hash, err)
	}
	return nil
}

// writeHistory stores h on revision rev. On a conflict (another publish
// wrote first, or a try of this one whose answer was lost) it reads the
// history again: when h[0] is still the live version, it writes what
// History reads, so this version is recorded after the other one; when it
// is not, this publish lost, and fails.
func (c *Conn) writeHistory(ctx context.Context, h []string, rev uint64) error {
	err := c.retry(ctx, "write history", func(ctx context.Context) error { return c.casHistory(ctx, h, rev) })
	if conflict(err) {
		cur, crev, rerr := c.History(ctx)
		switch {
		case rerr != nil:
			err = fmt.Errorf("%w; then: %w", err, rerr)
		case len(cur) == 0 || cur[0] != h[0]:
			return fmt.Errorf("%s: another publish ran meanwhile and %s is live; %s is not (it may have been for a moment): %w",
				c.Src, short(cur), h[0], err)
		default:
			err = c.retry(ctx, "write history", func(ctx context.Context) error { return c.casHistory(ctx, cur, crev) })
		}
	}
	if conflict(err) {
		return fmt.Errorf("%s: history changed meanwhile (another publish?), try again: %w", c.Src, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %s is live but its history write failed (the next publish or rollback reads it as written): %w", c.Src, h[0], err)
	}
	return nil
}

// casHistory writes h if the stored history is still at rev (0: none).
func (c *Conn) casHistory(ctx context.Context, h []string, rev uint64) error {
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
	return err
}

// short is the first version of h, or "none".
func short(h []string) string {
	if len(h) == 0 {
		return "none"
	}
	return h[0]
}
