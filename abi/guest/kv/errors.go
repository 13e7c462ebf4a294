package kv

import (
	"errors"

	"github.com/wasmcluster/wasmcluster/abi"
)

// Errors a call's error matches with errors.Is, one per abi.Status.
var (
	ErrNotFound    = errors.New("kv: not found")
	ErrConflict    = errors.New("kv: conflict")
	ErrTooLarge    = errors.New("kv: too large")
	ErrUnavailable = errors.New("kv: store unavailable")
	ErrNotGranted  = errors.New("kv: store not granted")
	ErrInvalid     = errors.New("kv: invalid argument")
	ErrTimeout     = errors.New("kv: timeout")
	ErrNotNumber   = errors.New("kv: not a number")
	ErrFailed      = errors.New("kv: failed")
)

var byStatus = map[abi.Status]error{
	abi.StatusNotFound:    ErrNotFound,
	abi.StatusConflict:    ErrConflict,
	abi.StatusTooLarge:    ErrTooLarge,
	abi.StatusUnavailable: ErrUnavailable,
	abi.StatusNotGranted:  ErrNotGranted,
	abi.StatusInvalid:     ErrInvalid,
	abi.StatusTimeout:     ErrTimeout,
	abi.StatusNotNumber:   ErrNotNumber,
}

// Error is a failed call: the operation, the key (or prefix), the status
// the host returned and its explanation (the host's last_error).
type Error struct {
	Op     string
	Key    string
	Status abi.Status
	Msg    string
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return "kv " + e.Op + " " + e.Key + ": " + e.Status.String()
}

// Is matches the sentinel error of e's status (ErrNotFound, ErrConflict, …).
func (e *Error) Is(target error) bool {
	want, ok := byStatus[e.Status]
	if !ok {
		want = ErrFailed
	}
	return target == want
}

func newError(op, key string, s abi.Status) error {
	return &Error{Op: op, Key: key, Status: s, Msg: lastError()}
}

// lastError is the host's explanation of the latest failed call.
func lastError() string {
	var small [256]byte
	n := hostLastError(bytesPtr(small[:]), uint32(len(small)))
	if int(n) <= len(small) {
		return string(small[:n])
	}
	big := make([]byte, n)
	n = hostLastError(bytesPtr(big), n)
	return string(big[:n])
}
