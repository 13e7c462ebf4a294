package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ReportTTL is how long an instance's report lives without a refresh: an
// instance gone for longer drops out of the fleet view.
const ReportTTL = 10 * time.Second

// ReportEvery is how often an instance refreshes its report.
const ReportEvery = 2 * time.Second

// Report is what one instance says about itself in the fleet view.
type Report struct {
	ID          string   `json:"id"` // host-pid
	Host        string   `json:"host"`
	PID         int      `json:"pid"`
	Listen      string   `json:"listen"`
	Version     string   `json:"version"` // SHA-256 hex the workers run
	LastRoll    string   `json:"last_roll,omitempty"`
	LastRefused *Refusal `json:"last_refused,omitempty"`
	// LastReverted is the last version this instance rolled to and went
	// back from: it crash-looped after its roll, or a new worker of it
	// failed mid-roll.
	LastReverted *Refusal `json:"last_reverted,omitempty"`
	// Waiting is the version this instance waits to roll to until a roll
	// slot frees (publish --max-unavailable); Holding the one it holds a
	// slot for, rolling now.
	Waiting string `json:"waiting,omitempty"`
	Holding string `json:"holding,omitempty"`
	// Settling: Version was rolled to less than plugin.stable_after ago,
	// so a crash loop would still revert it.
	Settling     bool      `json:"settling,omitempty"`
	WorkersReady int       `json:"workers_ready"`
	Workers      int       `json:"workers"`
	RequestRate  float64   `json:"request_rate"` // requests per second since the last report
	Errors       uint64    `json:"errors_5xx"`   // answers >= 500 by the workers running now
	UpdatedAt    time.Time `json:"updated_at"`
}

// Refusal is a version this instance's check refused.
type Refusal struct {
	Version string    `json:"version"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

// key is the report's key in the fleet bucket.
func (c *Conn) key(id string) string {
	return c.Src.Name + "." + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, id)
}

// Put writes r into the fleet view.
func (c *Conn) Put(ctx context.Context, r Report) error {
	ctx, cancel := c.op(ctx)
	defer cancel()
	kvb, err := c.kvBucket(ctx, c.Src.fleetBucket(), ReportTTL)
	if err != nil {
		return err
	}
	enc, _ := json.Marshal(r)
	_, err = kvb.Put(ctx, c.key(r.ID), enc)
	return err
}

// Remove takes instance id out of the fleet view (a graceful stop).
func (c *Conn) Remove(ctx context.Context, id string) error {
	ctx, cancel := c.op(ctx)
	defer cancel()
	kvb, err := c.kvBucket(ctx, c.Src.fleetBucket(), ReportTTL)
	if err != nil {
		return err
	}
	return kvb.Delete(ctx, c.key(id))
}

// Fleet lists the live instances serving the source, by ID.
func (c *Conn) Fleet(ctx context.Context) ([]Report, error) {
	entries, err := c.entries(ctx, c.Src.fleetBucket(), ReportTTL, c.Src.Name+".", "fleet")
	if err != nil {
		return nil, err
	}
	var out []Report
	for _, e := range entries {
		var r Report
		if json.Unmarshal(e.Value(), &r) == nil {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Report) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// entries reads the live entries of KV bucket whose keys start with
// prefix; what names the listing in errors. An entry that expired or was
// removed between listing and reading is skipped; any other failed read
// is an error, not an entry gone: a view missing a live instance (or a
// held slot) would mislead --wait, the canary's count and the slots.
func (c *Conn) entries(ctx context.Context, bucket string, ttl time.Duration, prefix, what string) ([]jetstream.KeyValueEntry, error) {
	ctx, cancel := c.op(ctx)
	defer cancel()
	kvb, err := c.kvBucket(ctx, bucket, ttl)
	if err != nil {
		return nil, err
	}
	keys, err := kvb.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.Src, what, err)
	}
	var out []jetstream.KeyValueEntry
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		e, err := kvb.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: read %s: %w", c.Src, what, k, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Runs reports whether every instance in reps runs version (a prefix of
// at least 7 hex digits does), and there is at least one.
func Runs(reps []Report, version string) bool {
	if len(reps) == 0 || len(version) < 7 {
		return false
	}
	for _, r := range reps {
		if !strings.HasPrefix(r.Version, version) || r.WorkersReady == 0 {
			return false
		}
	}
	return true
}

// Reporter refreshes this instance's report every ReportEvery, and at once
// (within checkEvery) when its version, ready workers or last refusal
// change, so `fleet --wait` sees a roll as it ends; when its context ends it
// removes the report.
func Reporter(ctx context.Context, c *Conn, now func() Report, log *slog.Logger) {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	var last Report
	var lastPut time.Time
	for {
		r := now()
		if changed(last, r) || time.Since(lastPut) >= ReportEvery {
			if err := c.Put(ctx, r); err != nil && ctx.Err() == nil {
				log.Debug("fleet: report", "err", err)
			} else {
				last, lastPut = r, time.Now()
			}
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.Remove(rctx, r.ID)
			cancel()
			return
		case <-t.C:
		}
	}
}

// checkEvery is how often the Reporter looks at the instance's status (a
// call into this process, no network).
const checkEvery = 200 * time.Millisecond

// changed reports whether b says something new that a waiting `fleet`
// should see now.
func changed(a, b Report) bool {
	refused := func(r Report) string {
		if r.LastRefused == nil {
			return ""
		}
		return r.LastRefused.Version + r.LastRefused.At.String()
	}
	reverted := func(r Report) string {
		if r.LastReverted == nil {
			return ""
		}
		return r.LastReverted.Version + r.LastReverted.At.String()
	}
	return a.Version != b.Version || a.WorkersReady != b.WorkersReady || refused(a) != refused(b) || a.LastRoll != b.LastRoll || a.Errors != b.Errors ||
		reverted(a) != reverted(b) || a.Waiting != b.Waiting || a.Holding != b.Holding || a.Settling != b.Settling
}
