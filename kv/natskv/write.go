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
		if err == nil || !errors.Is(err, kv.ErrConflict) {
			return n, err
		}
		if try == maxIncrTries {
			return 0, fmt.Errorf("incr: %d tries lost to other writers: %w", try+1, err)
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
// Each write carries a new message id. When the first copy gets no answer
// within half the time left, resend settles the outcome, so a lost reply
// never applies a write twice and never turns an applied write into a
// conflict.
func (s *Store) publish(ctx context.Context, subj string, value []byte, expires time.Time, expect *uint64) (uint64, error) {
	if _, err := s.bound(ctx); err != nil {
		return 0, err
	}
	p := newPending(subj, value, expires, expect)
	first, cancel := halfTime(ctx)
	ack, err := s.js.PublishMsg(first, p.msg, p.opts...)
	cancel()
	switch {
	case err == nil:
		return ack.Sequence, nil
	case !transient(err) || ctx.Err() != nil:
		return 0, s.mapErr("write", err)
	}
	return s.resend(ctx, p)
}

// pending is a write whose first copy got no answer.
type pending struct {
	msg    *nats.Msg
	opts   []jetstream.PublishOpt
	id     string  // its message id, stored with it
	expect *uint64 // its expected last revision, nil if none
}

func newPending(subj string, value []byte, expires time.Time, expect *uint64) *pending {
	m := nats.NewMsg(subj)
	m.Data = value
	p := &pending{msg: m, id: nuid.Next(), expect: expect}
	p.opts = []jetstream.PublishOpt{jetstream.WithMsgID(p.id)}
	if !expires.IsZero() {
		m.Header.Set(hdrExpires, strconv.FormatInt(expires.UnixNano(), 10))
		p.opts = append(p.opts, jetstream.WithMsgTTL(serverTTL(time.Until(expires))))
	}
	if expect != nil {
		p.opts = append(p.opts, jetstream.WithExpectLastSequencePerSubject(*expect))
	}
	return p
}

// resend settles a pending write. An unconditional write is sent again:
// the stream's duplicate window answers with the first copy's revision if
// it was applied. A conditional one cannot rely on that (the server checks
// the expected revision before duplicates), so the key is read: our
// message id there means applied; the expected revision still there means
// not applied, and it is sent again; anything else leaves the outcome
// unknown, which is ErrUnavailable, never a conflict a caller would retry.
func (s *Store) resend(ctx context.Context, p *pending) (uint64, error) {
	if p.expect == nil {
		ack, err := s.js.PublishMsg(ctx, p.msg, p.opts...)
		if err != nil {
			return 0, s.mapErr("write", err)
		}
		return ack.Sequence, nil
	}
	e, err := s.last(ctx, p.msg.Subject)
	switch {
	case err != nil:
		return 0, unknownOutcome(err)
	case e.msgID == p.id:
		return e.seq, nil
	case e.seq != *p.expect:
		return 0, unknownOutcome(errors.New("the key changed meanwhile"))
	}
	ack, err := s.js.PublishMsg(ctx, p.msg, p.opts...)
	if err == nil {
		return ack.Sequence, nil
	}
	if e, rerr := s.last(ctx, p.msg.Subject); rerr == nil && e.msgID == p.id {
		return e.seq, nil // the first copy landed after all
	}
	return 0, unknownOutcome(err)
}

func unknownOutcome(err error) error {
	return kv.Unavailable("nats: write got no answer and may or may not have been applied", err)
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
