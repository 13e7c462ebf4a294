package host

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// extFuncs is the wasmcluster module: our extension host functions (see
// abi/extension.go). Each extension keeps its own table in its own file and
// is listed here once; the same list drives registration and the import
// check in checkModule.
var extFuncs = concatFuncs(
	commonExtFuncs,
	outboundFuncs,
	kvFuncs,
)

// commonExtFuncs serve every extension.
var commonExtFuncs = []hostFunc{
	{abi.FuncLastError, sig(params(i32, i32), i32), (*Plugin).lastError},
}

var extFuncSigs = func() map[string]funcSig {
	m := make(map[string]funcSig, len(extFuncs))
	for _, f := range extFuncs {
		m[f.name] = f.sig
	}
	return m
}()

func concatFuncs(tables ...[]hostFunc) []hostFunc {
	var all []hostFunc
	for _, t := range tables {
		all = append(all, t...)
	}
	return all
}

// instantiateExtModule registers the wasmcluster module in r.
func (p *Plugin) instantiateExtModule(ctx context.Context, r wazero.Runtime) error {
	return p.instantiateFuncs(ctx, r, abi.ExtModule, extFuncs)
}

// extFail records why an extension call failed, for last_error, logs it at
// debug and returns status, so a host function can end with
// `stack[0] = uint64(rq.extFail(...))`.
func (p *Plugin) extFail(rq *request, s abi.Status, format string, args ...any) abi.Status {
	rq.extErr = fmt.Sprintf(format, args...)
	p.log.Debug("extension call failed", slog.String("status", s.String()), slog.String("reason", rq.extErr))
	return s
}

// last_error(buf, buf_limit) -> len
func (p *Plugin) lastError(ctx context.Context, mod api.Module, stack []uint64) {
	rq := requestOf(ctx, abi.FuncLastError)
	stack[0] = uint64(writeStringResult(mod, abi.FuncLastError, uint32(stack[0]), uint32(stack[1]), rq.extErr))
}
