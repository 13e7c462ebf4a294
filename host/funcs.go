package host

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// hostFunc is one function of the http_handler module.
type hostFunc struct {
	name string
	sig  funcSig
	fn   func(p *Plugin, ctx context.Context, mod api.Module, stack []uint64)
}

func sig(params []api.ValueType, results ...api.ValueType) funcSig {
	return funcSig{params: params, results: results}
}

func params(ts ...api.ValueType) []api.ValueType { return ts }

// hostFuncs is the http_handler module: the 19 functions of the ABI. The
// same table drives registration and the import check in checkModule.
var hostFuncs = []hostFunc{
	{abi.FuncEnableFeatures, sig(params(i32), i32), (*Plugin).enableFeatures},
	{abi.FuncGetConfig, sig(params(i32, i32), i32), (*Plugin).getConfig},
	{abi.FuncLogEnabled, sig(params(i32), i32), (*Plugin).logEnabled},
	{abi.FuncLog, sig(params(i32, i32, i32)), (*Plugin).logMessage},
	{abi.FuncGetMethod, sig(params(i32, i32), i32), (*Plugin).getMethod},
	{abi.FuncSetMethod, sig(params(i32, i32)), (*Plugin).setMethod},
	{abi.FuncGetURI, sig(params(i32, i32), i32), (*Plugin).getURI},
	{abi.FuncSetURI, sig(params(i32, i32)), (*Plugin).setURI},
	{abi.FuncGetProtocolVersion, sig(params(i32, i32), i32), (*Plugin).getProtocolVersion},
	{abi.FuncGetHeaderNames, sig(params(i32, i32, i32), i64), (*Plugin).getHeaderNames},
	{abi.FuncGetHeaderValues, sig(params(i32, i32, i32, i32, i32), i64), (*Plugin).getHeaderValues},
	{abi.FuncSetHeaderValue, sig(params(i32, i32, i32, i32, i32)), (*Plugin).setHeaderValue},
	{abi.FuncAddHeaderValue, sig(params(i32, i32, i32, i32, i32)), (*Plugin).addHeaderValue},
	{abi.FuncRemoveHeader, sig(params(i32, i32, i32)), (*Plugin).removeHeader},
	{abi.FuncReadBody, sig(params(i32, i32, i32), i64), (*Plugin).readBody},
	{abi.FuncWriteBody, sig(params(i32, i32, i32)), (*Plugin).writeBody},
	{abi.FuncGetStatusCode, sig(nil, i32), (*Plugin).getStatusCode},
	{abi.FuncSetStatusCode, sig(params(i32)), (*Plugin).setStatusCode},
	{abi.FuncGetSourceAddr, sig(params(i32, i32), i32), (*Plugin).getSourceAddr},
}

var hostFuncSigs = func() map[string]funcSig {
	m := make(map[string]funcSig, len(hostFuncs))
	for _, f := range hostFuncs {
		m[f.name] = f.sig
	}
	return m
}()

// instantiateHostModule registers http_handler in r. GoModuleFunc with the
// raw stack costs ~31 ns a call; reflection-based WithFunc ~890 ns.
func (p *Plugin) instantiateHostModule(ctx context.Context, r wazero.Runtime) error {
	return p.instantiateFuncs(ctx, r, abi.HostModule, hostFuncs)
}

// instantiateFuncs registers module in r with funcs bound to p.
func (p *Plugin) instantiateFuncs(ctx context.Context, r wazero.Runtime, module string, funcs []hostFunc) error {
	b := r.NewHostModuleBuilder(module)
	for _, f := range funcs {
		b.NewFunctionBuilder().
			WithGoModuleFunction(bind(p, f.fn), f.sig.params, f.sig.results).
			Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// requestOf returns the request the calling instance serves, faulting when
// the function is called outside one (e.g. during _initialize).
func requestOf(ctx context.Context, fn string) *request {
	inst := instanceFrom(ctx)
	if inst == nil || inst.rq.phase == phaseIdle {
		fault("%s: called outside a request", fn)
	}
	return &inst.rq
}

// beforeNext faults when the request is mutated after next ran.
func (rq *request) beforeNext(fn string) {
	if rq.phase.afterNext() {
		fault("%s: the request cannot change after next", fn)
	}
}

// responseWritable faults when the response cannot change: after next it
// needs buffer_response, and after commit only the body can still stream.
func (rq *request) responseWritable(fn string) {
	if rq.phase == phasePassthrough {
		fault("%s: changing the response after next needs the buffer_response feature", fn)
	}
}

func bind(p *Plugin, fn func(*Plugin, context.Context, api.Module, []uint64)) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) { fn(p, ctx, mod, stack) }
}
