package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf16"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// maxAbortString bounds the bytes read for each string abort logs: a
// corrupt length must not make the host copy megabytes into a log line.
const maxAbortString = 4096

var sigAbort = funcSig{[]api.ValueType{i32, i32, i32, i32}, nil}

// guestAbort is raised when the guest calls env.abort. Like a guestFault it
// fails that request only and the instance is discarded; during
// _initialize it makes the module a load error.
type guestAbort struct {
	message, file string
	line, column  uint32
}

func (a *guestAbort) Error() string {
	return fmt.Sprintf("plugin aborted: %q at %s:%d:%d", a.message, a.file, a.line, a.column)
}

// instantiateEnvModule registers env.abort, the one env import the
// AssemblyScript runtime needs.
func (p *Plugin) instantiateEnvModule(ctx context.Context, r wazero.Runtime) error {
	_, err := r.NewHostModuleBuilder(abi.EnvModule).
		NewFunctionBuilder().
		WithGoModuleFunction(bind(p, (*Plugin).abort), sigAbort.params, sigAbort.results).
		Export(abi.FuncAbort).
		Instantiate(ctx)
	return err
}

// abort traps the call with what the guest said; the request's failure
// record logs it (abortAttr), under the request's id.
func (p *Plugin) abort(_ context.Context, mod api.Module, stack []uint64) {
	panic(&guestAbort{
		message: readASString(mod.Memory(), uint32(stack[0])),
		file:    readASString(mod.Memory(), uint32(stack[1])),
		line:    uint32(stack[2]),
		column:  uint32(stack[3]),
	})
}

// abortAttr is the guest's abort message, file, line and column as a log
// group when err comes from env.abort, else an empty attribute (which
// handlers drop).
func abortAttr(err error) slog.Attr {
	var a *guestAbort
	if !errors.As(err, &a) {
		return slog.Attr{}
	}
	return slog.Group("abort", slog.String("message", a.message), slog.String("file", a.file),
		slog.Int("line", int(a.line)), slog.Int("column", int(a.column)))
}

// readASString decodes an AssemblyScript string: UTF-16LE code units whose
// byte length is the u32 at ptr-4. A null pointer is ""; a pointer or length
// outside memory is described rather than read, since the guest that
// aborts is often the one whose memory is corrupt.
func readASString(mem api.Memory, ptr uint32) string {
	if ptr == 0 {
		return ""
	}
	size := mem.Size()
	if ptr < 4 || ptr > size {
		return fmt.Sprintf("<bad string pointer %d>", ptr)
	}
	hdr, _ := mem.Read(ptr-4, 4)
	n := binary.LittleEndian.Uint32(hdr)
	if uint64(ptr)+uint64(n) > uint64(size) {
		return fmt.Sprintf("<bad string at %d: %d bytes past memory end %d>", ptr, n, size)
	}
	truncated := n > maxAbortString
	if truncated {
		n = maxAbortString
	}
	b, _ := mem.Read(ptr, n&^1)
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(units))
	if truncated {
		s += "…"
	}
	return s
}
