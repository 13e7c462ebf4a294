package natskv

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmcluster/wasmcluster/kv"
)

// mapErr turns a NATS error into one wrapping a kv sentinel: a stale
// revision is ErrConflict, an oversized message ErrTooLarge, anything that
// says the server or its leader is not there (timeouts, no responders, a
// connection being re-established, JetStream without a leader) is
// ErrUnavailable.
func (s *Store) mapErr(op string, err error) error {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*kv.Error)):
		return err
	case isWrongLastSeq(err):
		return fmt.Errorf("%w: %s: %w", kv.ErrConflict, op, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %s: %w", kv.ErrTooLarge, op, err)
	case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum:
		return fmt.Errorf("%w: %s: %w", kv.ErrTooLarge, op, err)
	case transient(err), s.nc.Status() != nats.CONNECTED:
		return kv.Unavailable("nats: "+op, err)
	case errors.As(err, &apiErr) && (apiErr.Code == 503 || apiErr.Code == 408):
		return kv.Unavailable("nats: "+op, err)
	}
	return fmt.Errorf("kv: nats: %s: %w", op, err)
}

func transient(err error) bool {
	return kv.IsTransient(err) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionDraining) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// isWrongLastSeq reports a failed expected-last-subject-sequence check:
// code 10071, or 10164 on replicated streams.
func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
