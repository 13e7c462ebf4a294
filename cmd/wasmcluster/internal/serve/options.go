package serve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/plugins/watch"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
	"github.com/wasmcluster/wasmcluster/workers/tlscert"
)

// Options configure Run. They are plain values: the CLI maps its
// configuration onto them, and tests build them directly.
type Options struct {
	// Plugin is the module file to serve; Run snapshots it, and watches it
	// for new versions. Required.
	Plugin string

	// Source is what the user asked to serve when Plugin was made from it
	// (a source directory built into Plugin); logs and errors name it.
	// Defaults to Plugin.
	Source string

	// PluginRules refuse a plugin file that is not regular, too large or
	// replaceable by other users, at start and on every hot swap.
	PluginRules watch.Rules

	// Host is the host configuration of every process that loads the
	// plugin: the preflight, each worker (it travels to them as JSON) and,
	// with Workers == InProcess, this process. Each sets the parts that
	// cannot travel itself: Logger (Options.Logger unless set), Next (the
	// handler host.NextHandler gives, except that a worker's self-test
	// request never reaches the upstream) and, when Uninterruptible,
	// OnStuck (the worker exits and the primary replaces it). Host.Next
	// and Host.OnStuck given here are not used.
	// Host.CacheDir also holds the snapshots, apart from the compiled
	// code: CacheDir/snapshots/<hash of Plugin's path>. Without it they go
	// to a private temporary directory removed when Run returns.
	Host host.Config

	// KV is the shared key-value store behind the plugins' kv_* functions
	// (kv.go): with the embedded backend Run starts its server in this
	// process first. nil, or URL "off": no store, and a plugin importing a
	// kv_* function is refused.
	KV *kv.Config

	// Workers is the number of worker processes: workers.InProcess (0)
	// serves in this process, workers.AutoWorkers (-1) starts one per
	// usable CPU. Host.Uninterruptible needs worker processes.
	Workers int

	// WorkerProcs is each worker's GOMAXPROCS (workers.PrimaryOptions):
	// 0 a share of the usable CPUs, -1 all of them, N exactly N. Workers
	// serving an uninterruptible guest always get all of them.
	WorkerProcs int

	// ControlPath is the control socket (status, reload, top): "" is the
	// default path (control.DefaultPath, or one beside it when
	// another instance holds that), "-" none.
	ControlPath string

	// Build, when set, reports the dev loop of a plugin built from its
	// sources, for status.
	Build func() *control.BuildStatus

	// BeforeReload, when set, runs before every reload (SIGHUP,
	// `wasmcluster reload`) reads the plugin: the dev loop rebuilds it
	// there. Its error fails the reload.
	BeforeReload func(context.Context) error

	// Listener, when set, is the socket to serve (Run closes it). Else
	// the socket systemd passed (LISTEN_FDS), else Listen is bound, after
	// the plugin passed its check, so a refused plugin never binds it.
	Listener net.Listener

	// Listen is the address to bind: "host:port" or "unix:/path".
	Listen string

	// Admin is the address of the admin listener (/metrics, /healthz,
	// /readyz), in every mode (--workers 0 too); "" means none.
	Admin string

	// AdminIfFree makes a taken Admin address disable the admin listener
	// with a warning instead of failing Run: for a default address that
	// several instances on one machine compete for.
	AdminIfFree bool

	// TLS, when set, terminates TLS with these certificate and key files
	// (several: chosen by SNI), watched and replaced while serving
	// (workers.PrimaryOptions.TLS).
	TLS []tlscert.Pair

	// Server tunes the HTTP server of each worker.
	Server httpserve.Options

	// StableAfter is how long a new version is watched for a crash loop
	// after its roll (workers.Backoff.StableAfter). Zero: workers' 1m.
	StableAfter time.Duration

	// Recycle replaces workers past request, memory or age limits.
	Recycle workers.RecycleOptions

	// DrainTimeout bounds a worker's drain and the graceful stop.
	// Defaults to workers' 30s.
	DrainTimeout time.Duration

	// Watch rolls the workers to every new content of Plugin that passes
	// preflight; without it only SIGHUP and `wasmcluster reload` do. Not
	// used with Workers == InProcess, which reloads on SIGHUP only.
	Watch bool

	// PreflightPath, when set, is requested through every new version
	// before it takes traffic, by the primary's check and by every worker
	// that loads it (Server.SelfTestPath is set to it; in-process, where
	// the check's plugin is the one that serves, it is sent once); a 5xx
	// answer refuses it. Empty: no request is sent, the load is the check.
	PreflightPath string

	// PreflightTimeout bounds the check of a version. Defaults to
	// preflight.DefaultTimeout.
	PreflightTimeout time.Duration

	// Logger receives the primary's log and every worker's. Defaults to
	// slog.Default().
	Logger *slog.Logger

	// IgnoreSignals leaves signals to the caller, who stops Run by
	// cancelling its context (embedders, tests). By default the primary
	// handles TERM, INT, QUIT, HUP, TTIN and TTOU.
	IgnoreSignals bool

	// OnReady, if set, is called once when the first workers all serve.
	OnReady func(addr net.Addr)

	// OnAccepted, if set, is called with the SHA-256 of every version the
	// check accepts (the first one included): a fleet source keeps it as
	// the version to serve when NATS is away at the next start.
	OnAccepted func(hash string)

	// OnStatus, if set, receives the primary's status function once the
	// primary exists (worker processes only): the fleet view reports it.
	OnStatus func(status func() control.Status)

	// OnRefused, if set, is called with the SHA-256 of every version the
	// check refuses after the start (watched or reloaded): no roll follows,
	// so a fleet instance frees the roll slot it took for it.
	OnRefused func(hash string)

	// AfterRoll, if set, is called after every roll and revert (worker
	// processes only), however it ended: a fleet instance frees its roll
	// slot, and a revert sends its last accepted version back.
	AfterRoll func(st control.RollStatus)
}

// withDefaults fills in the defaults and refuses what cannot be served.
func (o Options) withDefaults() (Options, error) {
	if o.Plugin == "" {
		return o, errors.New("serve: Options.Plugin is empty")
	}
	if o.Source == "" {
		o.Source = o.Plugin
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Host.Logger == nil {
		o.Host.Logger = o.Logger
	}
	o.Host.Next, o.Host.OnStuck = nil, nil
	// The check (and with Workers == InProcess, serving) runs here: this
	// process's outbound client (outbound.go). Workers build their own.
	var err error
	if o.Host.Outbound, err = outboundFor(o.Host.OutboundGrant); err != nil {
		return o, err
	}
	// One definition of a plugin that answers: what the check requests,
	// every worker requests.
	o.Server.SelfTestPath = o.PreflightPath
	if o.Workers < 0 {
		o.Workers = workers.UsableCPUs()
	}
	if o.Host.Uninterruptible && o.Workers == workers.InProcess {
		// Nothing outside could stop a runaway guest in this process.
		return o, errors.New("serve: Host.Uninterruptible needs worker processes: in-process, a guest that overruns its deadline could never be stopped")
	}
	return o, nil
}
