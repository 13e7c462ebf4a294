package abi

import "strconv"

// Status is the outcome of a call into an extension host function: 0 is
// success, anything else an error the guest handles as a value (never a
// trap). The message behind the latest non-zero status of a request is
// available from FuncLastError. Codes are shared by every extension; each
// function documents which ones it returns.
type Status uint32

const (
	StatusOK          Status = 0  // the call did what it was asked
	StatusNotFound    Status = 1  // no such key, handle or entry
	StatusConflict    Status = 2  // a compare-and-swap saw another revision; a create found the key present
	StatusTooLarge    Status = 3  // a key, value, body or list is over its configured limit
	StatusUnavailable Status = 4  // the backing service is down or did not answer in time
	StatusNotGranted  Status = 5  // the operator has not granted this capability (the message names the setting)
	StatusInvalid     Status = 6  // bad arguments: empty key, unknown handle, bad URL or method
	StatusDenied      Status = 7  // the target is refused by policy (e.g. not in outbound.allow)
	StatusTimeout     Status = 8  // the request's deadline or the extension's own timeout passed
	StatusNotNumber   Status = 9  // an increment found a value that is not a decimal int64
	StatusFailed      Status = 10 // any other failure; see FuncLastError
)

var statusNames = [...]string{"ok", "not_found", "conflict", "too_large", "unavailable", "not_granted",
	"invalid", "denied", "timeout", "not_number", "failed"}

// String is the status's name, as used in metrics labels.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// StatusLen is the result of extension functions that return a status and a
// length (a value read into the guest's buffer under the buffer rule).
//
//	bits 63..32  status  a Status; 0 on success
//	bits 31..0   len     the result's length; meaningful only when status is 0
//
//	NewStatusLen(StatusOK, 5)       == 5
//	NewStatusLen(StatusNotFound, 0) == 1<<32
type StatusLen uint64

// NewStatusLen packs a status and a length.
func NewStatusLen(s Status, length uint32) StatusLen {
	return StatusLen(s)<<32 | StatusLen(length)
}

// Status is the call's outcome (high 32 bits).
func (v StatusLen) Status() Status { return Status(v >> 32) }

// Len is the result's length (low 32 bits).
func (v StatusLen) Len() uint32 { return uint32(v) }

// FuncLastError is `wasmcluster.last_error(buf i32, buf_limit i32) -> len i32`.
//
// It writes, under the buffer rule, the message explaining the latest
// extension call of the current request that returned a non-zero Status
// (e.g. `kv: value of 2097152 bytes is over kv.max_value (1048576)` or
// `outbound: http://10.0.0.1 is not in outbound.allow`), and returns its
// length; 0 when no call has failed in this request.
const FuncLastError = "last_error"
