package fleet

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A publish's steps are retried on a transient NATS error: a node dying,
// a reconnect or a leader election in a cluster last a second or two, and
// every write of a publish is idempotent (objects are named by their
// content; a history write is a compare-and-set checked again after a
// conflict). The whole publish is bounded by publishBudget.
const (
	retryTries      = 8
	retryFirstDelay = 100 * time.Millisecond
	retryMaxDelay   = time.Second
)

// publishBudget bounds a publish's or rollback's writes, retries included.
func (c *Conn) publishBudget() time.Duration { return 2 * c.timeout }

// stepHook, set by tests only, runs before each step of a publish.
var stepHook func(step string)

// retry runs f, each try bounded by the call timeout, until it succeeds,
// fails other than transiently, or ctx or the tries run out. Each retry is
// logged (WARN) naming the step and the error.
func (c *Conn) retry(ctx context.Context, step string, f func(context.Context) error) error {
	if stepHook != nil {
		stepHook(step)
	}
	delay := retryFirstDelay
	for try := 1; ; try++ {
		tctx, cancel := c.op(ctx)
		err := f(tctx)
		cancel()
		if err == nil || try == retryTries || !transient(err) || ctx.Err() != nil {
			return err
		}
		c.logger().Warn("fleet: transient NATS error, retrying", "source", c.Src.String(), "step", step,
			"try", try, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMaxDelay)
	}
}

func (c *Conn) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// conflict reports a compare-and-set that lost: another writer came first.
func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// transientErrs are the errors of a NATS server or cluster that is away
// for a moment: a timeout, a reconnect, no server or stream answering.
var transientErrs = []error{
	ErrUnreachable, context.DeadlineExceeded, nats.ErrTimeout, nats.ErrDisconnected,
	nats.ErrConnectionReconnecting, nats.ErrReconnectBufExceeded, nats.ErrNoResponders, nats.ErrNoServers,
	jetstream.ErrNoStreamResponse, jetstream.ErrNoHeartbeat,
}

// transient reports an error worth a retry: one of transientErrs, or a
// JetStream API answer 503 (the cluster is electing a leader, or has too
// few nodes for a moment). A conflict never is.
func transient(err error) bool {
	if conflict(err) {
		return false
	}
	var api *jetstream.APIError
	if errors.As(err, &api) && api.Code == http.StatusServiceUnavailable {
		return true
	}
	for _, t := range transientErrs {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
