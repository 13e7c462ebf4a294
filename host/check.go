package host

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmcluster/wasmcluster/abi"
)

// ErrExitsAfterStart marks a module that calls proc_exit at the end of
// _start: a WASI command, not a reactor. It can never serve a request.
var ErrExitsAfterStart = errors.New("plugin exits after _start: it was built as a command, not a reactor")

// rebuildHint tells users how to fix ErrExitsAfterStart.
const rebuildHint = "rebuild it as a reactor: Go: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm " +
	"(or `wasmcluster build`); TinyGo: tinygo build -target=wasip1 -buildmode=c-shared"

// LoadError says why a module is not a usable http-wasm handler. It is about
// the module itself, never the environment.
type LoadError struct {
	Plugin string
	Reason string
	Err    error // optional cause, e.g. ErrExitsAfterStart
}

func (e *LoadError) Error() string {
	if e.Err != nil && !strings.Contains(e.Reason, e.Err.Error()) {
		return fmt.Sprintf("plugin %s refused: %s: %v", e.Plugin, e.Reason, e.Err)
	}
	return fmt.Sprintf("plugin %s refused: %s", e.Plugin, e.Reason)
}

func (e *LoadError) Unwrap() error { return e.Err }

type funcSig struct {
	params, results []api.ValueType
}

func (s funcSig) String() string {
	return fmt.Sprintf("func(%s) -> (%s)", typesString(s.params), typesString(s.results))
}

func typesString(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}

func (s funcSig) matches(params, results []api.ValueType) bool {
	return equalTypes(s.params, params) && equalTypes(s.results, results)
}

func equalTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64

	sigHandleRequest  = funcSig{nil, []api.ValueType{i64}}
	sigHandleResponse = funcSig{[]api.ValueType{i32, i32}, nil}
)

// checkModule verifies the exports and imports an http-wasm handler needs,
// naming the first problem and the expected signature.
func (p *Plugin) checkModule(r wazero.Runtime, m wazero.CompiledModule) error {
	refuse := func(format string, args ...any) error {
		return &LoadError{Plugin: p.cfg.Name, Reason: fmt.Sprintf(format, args...)}
	}
	if _, ok := m.ExportedMemories()[abi.ExportMemory]; !ok {
		return refuse("missing export %q: want an exported linear memory", abi.ExportMemory)
	}
	funcs := m.ExportedFunctions()
	hr, ok := funcs[abi.ExportHandleRequest]
	if !ok {
		return refuse("missing export %q: want %s", abi.ExportHandleRequest, sigHandleRequest)
	}
	if !sigHandleRequest.matches(hr.ParamTypes(), hr.ResultTypes()) {
		return refuse("export %q has signature %s: want %s", abi.ExportHandleRequest,
			funcSig{hr.ParamTypes(), hr.ResultTypes()}, sigHandleRequest)
	}
	if hresp, ok := funcs[abi.ExportHandleResponse]; ok {
		if !sigHandleResponse.matches(hresp.ParamTypes(), hresp.ResultTypes()) {
			return refuse("export %q has signature %s: want %s", abi.ExportHandleResponse,
				funcSig{hresp.ParamTypes(), hresp.ResultTypes()}, sigHandleResponse)
		}
		p.hasResp = true
	}
	for _, name := range []string{abi.ExportInitialize, abi.ExportStart} {
		if f, ok := funcs[name]; ok && (len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0) {
			return refuse("export %q has signature %s: want func() -> ()", name,
				funcSig{f.ParamTypes(), f.ResultTypes()})
		}
	}
	if mems := m.ImportedMemories(); len(mems) > 0 {
		mod, name, _ := mems[0].Import()
		return refuse("imports its memory as %s.%s: the host provides none; export the memory as %q instead "+
			"(AssemblyScript: build without --importMemory)", mod, name, abi.ExportMemory)
	}
	for _, imp := range m.ImportedFunctions() {
		mod, name, _ := imp.Import()
		want, ok := providedSig(r, mod, name)
		if !ok {
			return refuse("import %s.%s is not provided by wasmcluster: the host provides %s.* (the http-wasm ABI), "+
				"%s.* (wasmcluster's extensions), %s.%s (AssemblyScript) and wasi_snapshot_preview1; "+
				"remove the import or implement it inside the plugin",
				mod, name, abi.HostModule, abi.ExtModule, abi.EnvModule, abi.FuncAbort)
		}
		if mod == abi.ExtModule && strings.HasPrefix(name, abi.KVPrefix) && p.cfg.KV == nil {
			return refuse("imports %s.%s but %s", mod, name, kvOffReason)
		}
		if !want.matches(imp.ParamTypes(), imp.ResultTypes()) {
			return refuse("imports %s.%s with signature %s: want %s", mod, name,
				funcSig{imp.ParamTypes(), imp.ResultTypes()}, want)
		}
	}
	return nil
}

// providedSig returns the signature of a function the host provides to
// guests, and whether it provides it at all. WASI's functions are those
// wazero instantiated in r, so the list cannot drift from wazero's.
func providedSig(r wazero.Runtime, mod, name string) (funcSig, bool) {
	switch mod {
	case abi.HostModule:
		s, ok := hostFuncSigs[name]
		return s, ok
	case abi.EnvModule:
		return sigAbort, name == abi.FuncAbort
	case abi.ExtModule:
		s, ok := extFuncSigs[name]
		return s, ok
	case wasi_snapshot_preview1.ModuleName:
		if wasi := r.Module(mod); wasi != nil {
			if def, ok := wasi.ExportedFunctionDefinitions()[name]; ok {
				return funcSig{def.ParamTypes(), def.ResultTypes()}, true
			}
		}
	}
	return funcSig{}, false
}
