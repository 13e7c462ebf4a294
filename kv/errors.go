package kv

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Error is a sentinel error that carries the abi.Status a guest sees for
// it. Backends wrap the sentinels with %w and a message saying what
// happened, so errors.Is(err, kv.ErrConflict) holds and errors.As finds the
// Status (host.StatusError matches any wrapped Error).
type Error struct {
	status abi.Status
	text   string
}

func (e *Error) Error() string { return e.text }

// Status is the status the guest sees.
func (e *Error) Status() abi.Status { return e.status }

// The sentinels, one per status a store returns.
var (
	ErrNotFound    = &Error{abi.StatusNotFound, "kv: key not found"}
	ErrConflict    = &Error{abi.StatusConflict, "kv: revision conflict"}
	ErrTooLarge    = &Error{abi.StatusTooLarge, "kv: over the limit"}
	ErrUnavailable = &Error{abi.StatusUnavailable, "kv: store unavailable"}
	ErrNotNumber   = &Error{abi.StatusNotNumber, "kv: value is not a decimal int64"}
	ErrInvalid     = &Error{abi.StatusInvalid, "kv: invalid argument"}
	// ErrOff is what Open returns for kv.url = off: there is no store, and
	// a plugin that needs one is refused by the caller.
	ErrOff = &Error{abi.StatusNotGranted, "kv: the store is off (kv.url = off)"}
)

// Unavailable wraps err (a timeout, a refused connection, a lost leader) as
// ErrUnavailable with op for context, keeping err in the chain so
// errors.Is(err, context.DeadlineExceeded) still holds.
func Unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// IsTransient reports whether err is a timeout or a network failure: what
// backends map to ErrUnavailable.
func IsTransient(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}
