package host

import (
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// guestFault is raised (as a panic, which wazero turns into an error from
// the export call) when a guest breaks the ABI: an out-of-range pointer, a
// bad kind, a call not allowed in the current phase. It fails that request
// only; the instance is discarded.
type guestFault struct{ msg string }

func (f *guestFault) Error() string { return "plugin broke the ABI: " + f.msg }

func fault(format string, args ...any) {
	panic(&guestFault{msg: fmt.Sprintf(format, args...)})
}

// errBodyTooLarge is raised when the guest reads past Config.MaxRequestBody.
var errBodyTooLarge = errors.New("request body too large")

// readMem returns a view of guest memory, failing the request when the range
// is outside it. The view aliases guest memory: copy what outlives the call.
func readMem(mod api.Module, fn string, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		fault("%s: range [%d, %d+%d) is outside guest memory (%d bytes)", fn, ptr, ptr, n, mod.Memory().Size())
	}
	return b
}

// writeResult applies the ABI's buffer rule: write v at buf only when it
// fits in bufLimit, and always return its length so the guest can retry.
func writeResult(mod api.Module, fn string, buf, bufLimit uint32, v []byte) uint32 {
	n := uint32(len(v))
	if n == 0 || n > bufLimit {
		return n
	}
	if !mod.Memory().Write(buf, v) {
		fault("%s: range [%d, %d+%d) is outside guest memory (%d bytes)", fn, buf, buf, n, mod.Memory().Size())
	}
	return n
}

// writeStringResult is writeResult for a string, without converting it to
// bytes unless it is written.
func writeStringResult(mod api.Module, fn string, buf, bufLimit uint32, v string) uint32 {
	n := uint32(len(v))
	if n == 0 || n > bufLimit {
		return n
	}
	if !mod.Memory().WriteString(buf, v) {
		fault("%s: range [%d, %d+%d) is outside guest memory (%d bytes)", fn, buf, buf, n, mod.Memory().Size())
	}
	return n
}
