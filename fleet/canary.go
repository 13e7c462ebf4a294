package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Canary is a version a few instances run before the rest: those named
// fetch it from its history copy while everyone else keeps the object's.
type Canary struct {
	Version   string   `json:"version"`
	Instances []string `json:"instances"`
}

// InstanceID names this process in the fleet view: host-pid.
func InstanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// CanaryOptions configure PublishCanary.
type CanaryOptions struct {
	N    int           // instances that roll first
	For  time.Duration // how long they must serve it without a new 5xx
	Roll time.Duration // how long they may take to run it (default 30s)
	// MaxUnavailable bounds the rest's roll once the canaries passed
	// (PublishOptions.MaxUnavailable).
	MaxUnavailable int
}

// PublishCanary publishes data to o.N instances first (the first by ID in
// the fleet view). Once each runs it with workers ready, they must serve
// it for o.For with no new answer >= 500, no refusal and no revert. Then
// it is published to all; otherwise the canaries go back to the current
// version and the error says which failed how.
func (c *Conn) PublishCanary(ctx context.Context, data []byte, o CanaryOptions) (string, error) {
	if o.Roll <= 0 {
		o.Roll = 30 * time.Second
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	reps, err := c.Fleet(ctx)
	if err != nil {
		return "", err
	}
	if o.N < 1 || len(reps) <= o.N {
		return "", fmt.Errorf("%s: --canary %d needs more live instances than canaries; %d live", c.Src, o.N, len(reps))
	}
	ids := make([]string, o.N)
	for i := range ids {
		ids[i] = reps[i].ID
	}
	if err := c.startCanary(ctx, data, Canary{Version: hash, Instances: ids}); err != nil {
		return "", err
	}
	err = c.judgeCanaries(ctx, hash, ids, o)
	if err == nil {
		_, err = c.PublishWith(ctx, data, PublishOptions{MaxUnavailable: o.MaxUnavailable})
	}
	dctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if kvb, kerr := c.kvBucket(dctx, c.Src.versionsBucket(), 0); kerr == nil {
		kvb.Delete(dctx, c.Src.canaryKey()) // the canaries follow the object again
	}
	if err != nil {
		return "", fmt.Errorf("canary failed; its instances go back to the current version: %w", err)
	}
	return hash, nil
}

// startCanary uploads the version's history copy and names the canaries.
func (c *Conn) startCanary(ctx context.Context, data []byte, cn Canary) error {
	ctx, cancel := context.WithTimeout(ctx, c.publishBudget())
	defer cancel()
	err := c.retry(ctx, "history copy", func(ctx context.Context) error {
		obs, err := c.objects(ctx, true)
		if err == nil {
			_, err = obs.PutBytes(ctx, c.Src.versionObject(cn.Version), data)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: upload: %w", c.Src, err)
	}
	// Not retried: Create answers a lost try's own write with a conflict.
	ctx, cancel = c.op(ctx)
	defer cancel()
	kvb, err := c.kvBucket(ctx, c.Src.versionsBucket(), 0)
	if err != nil {
		return err
	}
	enc, _ := json.Marshal(cn)
	if _, err := kvb.Create(ctx, c.Src.canaryKey(), enc); err != nil {
		return fmt.Errorf("%s: another canary is in progress (or a publish that died left it: a publish without --canary, or --rollback, clears it): %w",
			c.Src, err)
	}
	return nil
}

// judgeCanaries waits for the canaries to run hash, then watches them for
// o.For.
func (c *Conn) judgeCanaries(ctx context.Context, hash string, ids []string, o CanaryOptions) error {
	base := map[string]uint64{}
	rollBy := time.Now().Add(o.Roll)
	var until time.Time
	for {
		reps, err := c.Fleet(ctx)
		if err != nil {
			return err
		}
		if err := judge(reps, hash, ids, base); err != nil {
			return err
		}
		switch {
		case len(base) < len(ids) && time.Now().After(rollBy):
			return fmt.Errorf("%d of %d canaries did not run %s within %s", len(ids)-len(base), len(ids), hash, o.Roll)
		case len(base) == len(ids) && until.IsZero():
			until = time.Now().Add(o.For)
		case !until.IsZero() && time.Now().After(until):
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// judge checks each canary's report; base holds the 5xx count of each that
// runs hash (the lowest seen: a restarted worker starts again from 0).
func judge(reps []Report, hash string, ids []string, base map[string]uint64) error {
	byID := map[string]Report{}
	for _, r := range reps {
		byID[r.ID] = r
	}
	for _, id := range ids {
		r, ok := byID[id]
		b, running := base[id]
		switch {
		case !ok:
			return fmt.Errorf("canary %s left the fleet view", id)
		case r.LastRefused != nil && r.LastRefused.Version == hash:
			return fmt.Errorf("canary %s refused %s: %s", id, hash, r.LastRefused.Error)
		case running && r.Version != hash:
			return fmt.Errorf("canary %s went back to %s (a crash loop?)", id, r.Version)
		case running && r.Errors > b:
			return fmt.Errorf("canary %s answered %d requests with 5xx since it runs %s", id, r.Errors-b, hash)
		case running && r.Errors < b, !running && r.Version == hash && r.WorkersReady > 0:
			base[id] = r.Errors
		}
	}
	return nil
}
