package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmcluster/wasmcluster/abi"
)

// WASIModule is the module name of the WASI functions the host provides.
const WASIModule = "wasi_snapshot_preview1"

// ErrNotWasm is returned for bytes that are not a WebAssembly module.
var ErrNotWasm = errors.New("not a WebAssembly module (bad magic header or too short)")

// Func is an imported or exported function with its signature.
type Func struct {
	Module  string   `json:"module,omitempty"` // imports only
	Name    string   `json:"name"`
	Params  []string `json:"params"`
	Results []string `json:"results"`
}

// Signature renders f's types as "(i32, i32) -> i64".
func (f Func) Signature() string {
	s := "(" + strings.Join(f.Params, ", ") + ")"
	if len(f.Results) > 0 {
		s += " -> " + strings.Join(f.Results, ", ")
	}
	return s
}

// Imports are a module's imported functions, grouped by who serves them.
type Imports struct {
	HTTPHandler []Func `json:"http_handler"`
	// Extension groups the wasmcluster module's functions by capability:
	// "kv", "outbound", "common" (shared by every extension, such as
	// last_error) and "unknown" (no such function: refused at load).
	Extension map[string][]Func `json:"wasmcluster"`
	WASI      []Func            `json:"wasi"`
	Env       []Func            `json:"env"`
	// Other are imports from any other module: refused at load.
	Other []Func `json:"other"`
}

// Memory is the module's linear memory: its declared limits in 64 KiB
// pages and the cap an instance gets once Grants.MemoryLimitPages applies.
type Memory struct {
	Name     string `json:"name"` // export or import name
	Imported bool   `json:"imported,omitempty"`
	Min      uint32 `json:"min_pages"`
	Max      uint32 `json:"max_pages,omitempty"` // 0 with HasMax false: none declared
	HasMax   bool   `json:"has_max"`
	CapPages uint32 `json:"cap_pages"`
}

// Report describes one module.
type Report struct {
	Size         int          `json:"size"`
	Imports      Imports      `json:"imports"`
	Exports      []Func       `json:"exports"`
	Memories     []Memory     `json:"memories"`
	Capabilities []Capability `json:"capabilities"`
}

// Analyze compiles wasm (without instantiating it) and describes it
// against grants.
func Analyze(ctx context.Context, wasm []byte, grants Grants) (*Report, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, ErrNotWasm
	}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(context.WithoutCancel(ctx))
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	rep := &Report{Size: len(wasm), Imports: Imports{Extension: map[string][]Func{}}}
	seen := map[[2]string]bool{}
	for _, d := range compiled.ImportedFunctions() {
		f := funcOf(d)
		if k := [2]string{f.Module, f.Name}; !seen[k] { // a module may import one function twice
			seen[k] = true
			rep.Imports.add(f)
		}
	}
	for _, d := range compiled.ExportedFunctions() {
		f := funcOf(d)
		f.Module = ""
		rep.Exports = append(rep.Exports, f)
	}
	slices.SortFunc(rep.Exports, func(a, b Func) int { return strings.Compare(a.Name, b.Name) })
	rep.Memories = memories(compiled, grants.MemoryLimitPages)
	rep.Capabilities = capabilities(rep.Imports, grants)
	return rep, nil
}

func funcOf(d api.FunctionDefinition) Func {
	f := Func{Params: typeNames(d.ParamTypes()), Results: typeNames(d.ResultTypes())}
	if mod, name, ok := d.Import(); ok {
		f.Module, f.Name = mod, name
	} else if names := d.ExportNames(); len(names) > 0 {
		f.Name = names[0]
	}
	return f
}

func typeNames(ts []api.ValueType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = api.ValueTypeName(t)
	}
	return out
}

// add files f under its group.
func (im *Imports) add(f Func) {
	switch f.Module {
	case abi.HostModule:
		im.HTTPHandler = append(im.HTTPHandler, f)
	case abi.ExtModule:
		g := extGroup(f.Name)
		im.Extension[g] = append(im.Extension[g], f)
	case WASIModule:
		im.WASI = append(im.WASI, f)
	case abi.EnvModule:
		im.Env = append(im.Env, f)
	default:
		im.Other = append(im.Other, f)
	}
}

// Extension groups.
const (
	GroupKV       = "kv"
	GroupOutbound = "outbound"
	GroupCommon   = "common"
	GroupUnknown  = "unknown"
)

func extGroup(name string) string {
	switch {
	case strings.HasPrefix(name, abi.KVPrefix):
		return GroupKV
	case strings.HasPrefix(name, abi.OutboundPrefix):
		return GroupOutbound
	case name == abi.FuncLastError:
		return GroupCommon
	}
	return GroupUnknown
}

// memories lists the module's memories with the cap an instance gets:
// the declared maximum or limit, whichever is lower (limit 0: none).
func memories(c wazero.CompiledModule, limit uint32) []Memory {
	var out []Memory
	add := func(name string, imported bool, d api.MemoryDefinition) {
		m := Memory{Name: name, Imported: imported, Min: d.Min()}
		m.Max, m.HasMax = d.Max()
		m.CapPages = limit
		if m.HasMax && (limit == 0 || m.Max < limit) {
			m.CapPages = m.Max
		}
		out = append(out, m)
	}
	for _, d := range c.ImportedMemories() {
		mod, name, _ := d.Import()
		add(mod+"."+name, true, d)
	}
	for name, d := range c.ExportedMemories() {
		add(name, false, d)
	}
	slices.SortFunc(out, func(a, b Memory) int { return strings.Compare(a.Name, b.Name) })
	return out
}
