package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmcluster/wasmcluster/abi"
)

// instance is one initialized guest. It serves one request at a time; the
// pool guarantees exclusivity.
type instance struct {
	mod            api.Module
	handleRequest  api.Function
	handleResponse api.Function // nil when not exported
	responseWanted api.Function // abi.ExportResponseWanted; nil when not exported

	// features is the default set by enable_features outside a request.
	features abi.Features
	// rq is the request being served (phaseIdle between requests); its
	// buffers are reused across requests.
	rq request
	// started is when the current request began (UnixNano), 0 when idle,
	// and -1 once the watchdog interrupted it (see deadline.go).
	started atomic.Int64
	// call is the context of every export call on this instance.
	call callContext
	// stack is reused for export calls so the hot path does not allocate.
	stack [2]uint64
}

type instanceKey struct{}

// instanceFrom returns the instance whose call is running on ctx.
func instanceFrom(ctx context.Context) *instance {
	if c, ok := ctx.(*callContext); ok {
		return c.inst // fast path: no Value chain walk
	}
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	return inst
}

func (inst *instance) close() {
	if inst.mod != nil {
		_ = inst.mod.Close(context.Background())
	}
}

// newInstance instantiates and initializes one guest. Any failure here is
// the module's fault and becomes a *LoadError.
func (p *Plugin) newInstance(ctx context.Context) (inst *instance, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("instantiate plugin %s: wazero panicked: %v", p.cfg.Name, rec)
		}
	}()
	inst = &instance{}
	inst.call = callContext{inst: inst, done: make(chan struct{})}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(). // we run _initialize / _start ourselves
		WithArgs(p.cfg.Name).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithStdout(newLineLogger(p.log, "stdout")).
		WithStderr(newLineLogger(p.log, "stderr"))
	mc = p.grants(mc)
	// The init bound is a cause of its own, so a caller's deadline running
	// out meanwhile is not blamed on the module.
	ctx, cancel := context.WithTimeoutCause(ctx, p.cfg.InitTimeout, errInitTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, instanceKey{}, inst)
	mod, err := p.runtime.InstantiateModule(ctx, p.compiled, mc)
	if err != nil {
		return nil, &LoadError{Plugin: p.cfg.Name, Reason: "instantiate: " + firstLine(err)}
	}
	inst.mod = mod
	if err := p.initialize(ctx, mod); err != nil {
		inst.close()
		return nil, err
	}
	inst.handleRequest = mod.ExportedFunction(abi.ExportHandleRequest)
	inst.handleResponse = mod.ExportedFunction(abi.ExportHandleResponse)
	if inst.handleResponse != nil {
		inst.responseWanted = mod.ExportedFunction(abi.ExportResponseWanted)
	}
	p.stats.instantiations.Add(1)
	return inst, nil
}

// initialize runs _initialize (reactors) or else _start (older TinyGo). A
// _start that exits is a command module that cannot serve.
func (p *Plugin) initialize(ctx context.Context, mod api.Module) error {
	if f := mod.ExportedFunction(abi.ExportInitialize); f != nil {
		if _, err := f.Call(ctx); err != nil {
			if ctx.Err() != nil {
				return p.initTimeout(ctx, abi.ExportInitialize)
			}
			return &LoadError{Plugin: p.cfg.Name, Reason: abi.ExportInitialize + " failed: " + firstLine(err)}
		}
		return nil
	}
	f := mod.ExportedFunction(abi.ExportStart)
	if f == nil {
		return nil
	}
	_, err := f.Call(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return p.initTimeout(ctx, abi.ExportStart)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return &LoadError{
			Plugin: p.cfg.Name,
			Reason: fmt.Sprintf("it calls proc_exit(%d) at the end of _start, so it cannot serve requests; %s",
				exit.ExitCode(), rebuildHint),
			Err: ErrExitsAfterStart,
		}
	}
	return &LoadError{Plugin: p.cfg.Name, Reason: abi.ExportStart + " failed: " + firstLine(err)}
}

// errInitTimeout is the cause of the InitTimeout deadline.
var errInitTimeout = errors.New("initialization timed out")

// initTimeout reports an initializer that did not return in time. Past
// InitTimeout it is the module's fault (a *LoadError); the caller's own
// deadline or cancellation is not.
func (p *Plugin) initTimeout(ctx context.Context, export string) error {
	if context.Cause(ctx) == errInitTimeout {
		return &LoadError{Plugin: p.cfg.Name,
			Reason: fmt.Sprintf("%s did not return within %v", export, p.cfg.InitTimeout), Err: context.DeadlineExceeded}
	}
	return fmt.Errorf("plugin %s: %s interrupted: %w", p.cfg.Name, export, ctx.Err())
}

// firstLine drops wazero's wasm stack trace from an error message.
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// grants adds the operator's grants to an instance's configuration: the
// environment (exactly Config.Env) and the mounts. Without them the guest
// has an empty environment and no file system at all.
func (p *Plugin) grants(mc wazero.ModuleConfig) wazero.ModuleConfig {
	for _, e := range p.cfg.Env {
		mc = mc.WithEnv(e.Name, e.Value)
	}
	if p.mounts.fs != nil {
		mc = mc.WithFSConfig(p.mounts.fs)
	}
	return mc
}
