package natskv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/wasmcluster/wasmcluster/kv"
)

// maxIncrTries bounds Incr's compare-and-swap loop under contention (the
// caller's deadline and kv.timeout bound it in time).
const maxIncrTries = 1000

// Get returns key's value and revision.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, uint64, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	e, err := s.last(ctx, s.pre+encodeKey(key))
	if err != nil {
		return nil, 0, err
	}
	if !e.live {
		return nil, 0, kv.ErrNotFound
	}
	return e.value, e.seq, nil
}

// Set stores value under key, expiring after ttl when ttl > 0.
func (s *Store) Set(ctx context.Context, key, value []byte, ttl time.Duration) (uint64, error) {
	if err := s.checkWrite(key, value, ttl); err != nil {
		return 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	return s.publish(ctx, s.pre+encodeKey(key), value, expiry(ttl), nil)
}

// Delete removes key: a purge marker that itself expires after
// limitMarkerTTL, so deleted keys leave nothing behind for long.
func (s *Store) Delete(ctx context.Context, key []byte) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	b, err := s.bound(ctx)
	if err != nil {
		return err
	}
	return s.mapErr("delete", b.Purge(ctx, encodeKey(key), jetstream.PurgeTTL(limitMarkerTTL)))
}

// CompareAndSwap publishes value with the server checking that the key's
// last revision is still rev. rev 0 means absent: the latest message may
// be a delete or expiry marker, whose sequence is then the one expected.
func (s *Store) CompareAndSwap(ctx context.Context, key, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	if err := s.checkWrite(key, value, ttl); err != nil {
		return 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	subj := s.pre + encodeKey(key)
	expect := rev
	if rev == 0 {
		e, err := s.last(ctx, subj)
		if err != nil {
			return 0, err
		}
		if e.live {
			return 0, fmt.Errorf("%w: key exists at revision %d", kv.ErrConflict, e.seq)
		}
		expect = e.seq
	}
	return s.publish(ctx, subj, value, expiry(ttl), &expect)
}

// Incr is a compare-and-swap loop: read the value and its revision, write
// the sum expecting that revision, retry on a conflict. The new revision
// keeps the key's expiry; a key that is absent or expired starts at 0 with
// ttl.
func (s *Store) Incr(ctx context.Context, key []byte, delta int64, ttl time.Duration) (int64, error) {
	if err := kv.CheckKey(key); err != nil {
		return 0, err
	}
	if err := kv.CheckTTL(ttl); err != nil {
		return 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	subj := s.pre + encodeKey(key)
	if err := s.incrLocks.lock(ctx, subj); err != nil {
		return 0, kv.Unavailable("nats: incr: waiting for this client's other increments", err)
	}
	defer s.incrLocks.unlock(subj)
	for try := 0; ; try++ {
		n, err := s.incrOnce(ctx, subj, delta, ttl)
		if err == nil || !errors.Is(err, kv.ErrConflict) || try == maxIncrTries {
			return n, err
		}
		// Contention: a little jitter lets the winner's reply land.
		time.Sleep(rand.N(time.Duration(min(try+1, 20)) * 250 * time.Microsecond))
	}
}

func (s *Store) incrOnce(ctx context.Context, subj string, delta int64, ttl time.Duration) (int64, error) {
	e, err := s.last(ctx, subj)
	if err != nil {
		return 0, err
	}
	var cur int64
	expires := expiry(ttl)
	if e.live {
		if cur, err = kv.ParseInt(e.value); err != nil {
			return 0, err
		}
		expires = e.expires
	}
	n, err := kv.AddInt64(cur, delta)
	if err != nil {
		return 0, err
	}
	expect := e.seq
	if _, err := s.publish(ctx, subj, []byte(strconv.FormatInt(n, 10)), expires, &expect); err != nil {
		return 0, err
	}
	return n, nil
}

func (s *Store) checkWrite(key, value []byte, ttl time.Duration) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	if err := kv.CheckValue(value, s.cfg.MaxValue); err != nil {
		return err
	}
	return kv.CheckTTL(ttl)
}

func expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return time.Now().Add(ttl)
}

// publish writes value to subj, with an expiry (zero: none) and an
// expected last revision (nil: any), and returns the new revision.
//
// Each write carries a new message id. When the first attempt gets no
// answer within half the time left, the same message is sent again: the
// server's duplicate window answers with the original revision if the
// first one was applied, so a lost reply never applies a write twice.
func (s *Store) publish(ctx context.Context, subj string, value []byte, expires time.Time, expect *uint64) (uint64, error) {
	if _, err := s.bound(ctx); err != nil {
		return 0, err
	}
	m := nats.NewMsg(subj)
	m.Data = value
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(nuid.Next())}
	if !expires.IsZero() {
		m.Header.Set(hdrExpires, strconv.FormatInt(expires.UnixNano(), 10))
		opts = append(opts, jetstream.WithMsgTTL(serverTTL(time.Until(expires))))
	}
	if expect != nil {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*expect))
	}
	first, cancel := halfTime(ctx)
	ack, err := s.js.PublishMsg(first, m, opts...)
	cancel()
	if err != nil && transient(err) && ctx.Err() == nil {
		ack, err = s.js.PublishMsg(ctx, m, opts...)
	}
	if err != nil {
		return 0, s.mapErr("write", err)
	}
	return ack.Sequence, nil
}

// serverTTL rounds up to the server's resolution, whole seconds (at least
// one); our own expiry header hides the key at the exact time.
func serverTTL(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}

func halfTime(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Until(dl)/2)
}
