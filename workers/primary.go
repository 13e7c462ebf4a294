package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/admin"
	"github.com/wasmcluster/wasmcluster/workers/balance"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

// ErrStopping is returned while the primary stops (a roll, a command).
var ErrStopping = errors.New("primary is stopping")

// ErrNoWorkerReady is returned by RunPrimary when, at a cold start, a
// slot's workers failed Backoff.CrashLoop times in a row before any
// worker was ready.
var ErrNoWorkerReady = errors.New("no worker became ready")

// Primary supervises worker processes. One goroutine (run) owns every
// mutable field below "supervisor-owned"; everything else reaches it
// through the events and cmds channels.
type Primary struct {
	loop   // cmds and quit (closed when run returns)
	opts   PrimaryOptions
	log    *slog.Logger
	ln     net.Listener
	lnFile *os.File // the dup handed to every worker as fd 3

	board     *balance.Board // connections per worker, shared with them; nil: unbalanced
	boardFile *os.File       // the table handed to every worker as fd 5
	ctl       *control.Server
	sd        *notifier // notify.go: systemd notifications
	events    chan event
	spawnCh   chan spawnReq
	rq        *rollQueue // pending roll, roll status, crash-loop watch (roll_queue.go)
	tls       *serverTLS // nil without TLS (tls.go)
	started   time.Time
	// downAnswered counts the requests the primary answered 503 itself
	// (unavailable.go): /metrics reports them beside the workers'.
	downAnswered atomic.Uint64

	// supervisor-owned
	spec          Spec // version for new slots
	desired       int
	slots         []*slot
	procs         map[*proc]struct{}
	seq           int
	everReady     bool
	readyNotified bool
	stopping      bool
	fast          bool
	stopSignals   int          // TERM/INT received; the second one stops fast
	fastSignal    os.Signal    // set when a repeated TERM/INT forced a fast stop
	stopErrs      []error      // workers that did not stop cleanly
	gated         bool         // opts.Gate has not passed: new workers are held
	gateErr       error        // why opts.Gate refused Spec
	coldErr       error        // why a cold start gave up (ErrNoWorkerReady)
	down          *unavailable // answering 503: no worker ready, one failing
	downFailed    bool         // starting down failed; logged once
	staged        *proc        // held worker started by Prestage, not yet claimed
	stagedAt      time.Time
	lastRoll      string

	ops opsState // metrics.go, recycle.go
}

// FastStopError is returned by RunPrimary when a second SIGTERM or SIGINT
// cut the graceful stop short; callers may re-raise Signal to die by it,
// as a shell expects.
type FastStopError struct{ Signal os.Signal }

func (e *FastStopError) Error() string {
	return "stopped fast on a second " + e.Signal.String()
}

// slot is a stable worker position (its id is what users see); its process
// changes on respawn and roll.
type slot struct {
	id        int
	spec      Spec
	cur       *proc
	failures  int // quick failures in a row
	restarts  int
	nextStart time.Time
	lastExit  string
	crashLoop bool
}

// RunPrimary serves opts.Spec on opts.Workers processes until ctx ends or
// a stop signal arrives; it returns nil after a graceful stop. Workers
// failing never make it return.
func RunPrimary(ctx context.Context, opts PrimaryOptions) error {
	if opts.Workers == InProcess {
		opts = opts.withDefaults()
		ln, err := openListener(opts)
		if err != nil {
			return err
		}
		return runInProcess(ctx, opts, ln)
	}
	pr, err := NewPrimary(opts)
	if err != nil {
		return err
	}
	return pr.Run(ctx)
}

// NewPrimary binds the listener and the control socket without starting
// workers; Run starts them. It is for callers that need the *Primary (the
// roll, tests); Workers must not be InProcess.
func NewPrimary(opts PrimaryOptions) (*Primary, error) {
	opts = opts.withDefaults()
	if opts.Workers == InProcess {
		return nil, errors.New("NewPrimary: Workers is InProcess; use RunPrimary")
	}
	ln, err := openListener(opts)
	if err != nil {
		return nil, err
	}
	pr, err := newPrimary(opts, ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return pr, nil
}

// Addr is the listener's address.
func (pr *Primary) Addr() net.Addr { return pr.ln.Addr() }

// Status snapshots the primary's state (what the control socket answers).
func (pr *Primary) Status() control.Status {
	var st control.Status
	pr.do(func() { st = pr.status() })
	return st
}

// Run supervises workers until ctx ends or a stop signal arrives, then
// stops gracefully and returns nil. It may be called once.
func (pr *Primary) Run(ctx context.Context) error { return pr.run(ctx) }

func openListener(opts PrimaryOptions) (net.Listener, error) {
	if opts.Listener != nil {
		return opts.Listener, nil
	}
	ln, err := ListenerFromSystemd()
	if err != nil || ln != nil {
		return ln, err
	}
	return Listen(opts.Listen)
}

func newPrimary(opts PrimaryOptions, ln net.Listener) (*Primary, error) {
	f, err := dupListener(ln)
	if err != nil {
		return nil, err
	}
	pr := &Primary{
		loop: newLoop(), opts: opts, log: opts.Logger, ln: ln, lnFile: f,
		sd: &notifier{log: opts.Logger}, events: make(chan event, 256),
		spawnCh: make(chan spawnReq), rq: newRollQueue(opts.Spec), started: time.Now(),
		spec: opts.Spec, desired: max(opts.Workers, 1), procs: make(map[*proc]struct{}),
		gated: opts.Gate != nil,
	}
	if pr.board, pr.boardFile, err = balance.New(balance.SlotsFor(opts.Workers)); err != nil {
		pr.log.Debug("workers accept without balancing", "err", err)
	}
	if pr.tls, err = newServerTLS(opts.TLS, opts.Logger); err != nil {
		f.Close()
		return nil, err
	}
	if pr.ctl, err = control.Open(opts.ControlPath, pr.controlHandlers()); err != nil {
		f.Close()
		return nil, err
	}
	return pr, nil
}

func (pr *Primary) run(ctx context.Context) error {
	go spawner(pr.spawnCh)
	defer close(pr.spawnCh)
	sigs, stopSignals := catchSignals(pr.opts.IgnoreSignals)
	defer stopSignals()
	defer pr.startServices()()
	pr.supervise(ctx, sigs)
	close(pr.quit)
	pr.closeListener()
	pr.log.Info("primary stopped")
	return pr.stopResult()
}

// startServices starts what runs beside the supervisor loop: the control
// socket, systemd notifications, the roller, the admin listener and the
// gate. The returned func stops them, in reverse order.
func (pr *Primary) startServices() (stop func()) {
	var stops []func()
	if pr.ctl != nil {
		pr.ctl.ErrorLog = pr.log
		go pr.ctl.Serve()
		stops = append(stops, pr.ctl.Close)
	}
	pr.sd = openNotifier(pr.log, &pr.loop) // before the roller, which notifies
	stops = append(stops, pr.sd.close)
	go pr.roller()
	stops = append(stops, pr.startTLS())
	if pr.opts.Admin != nil {
		a := admin.Serve(pr.opts.Admin, adminSource{pr}, pr.ln)
		stops = append(stops, func() { a.Close() })
		pr.log.Info("admin listening", keyAddr, pr.opts.Admin.Addr().String())
	}
	pr.log.Info("primary started", keyAddr, pr.ln.Addr().String(), keyCount, pr.desired,
		keyPID, os.Getpid(), "control", pr.controlPath(), keyVersion, pr.spec.Version)
	if pr.opts.Gate != nil {
		gctx, cancel := context.WithCancel(context.Background())
		go pr.runGate(gctx)
		stops = append(stops, cancel)
	}
	return func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
}

// supervise is the supervisor loop: it owns the worker table until the
// primary is stopping and every worker has exited.
func (pr *Primary) supervise(ctx context.Context, sigs <-chan os.Signal) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	done := ctx.Done()
	pr.reconcile()
	for !pr.stopping || len(pr.procs) > 0 {
		select {
		case ev := <-pr.events:
			pr.handle(ev)
		case f := <-pr.cmds:
			f()
		case <-tick.C:
			pr.check()
		case sig := <-sigs:
			pr.onSignal(sig)
		case <-done:
			done = nil
			pr.log.Info("context done; stopping gracefully")
			pr.beginStop(false)
		}
		pr.reconcile()
		pr.setUnavailable()
	}
	pr.setUnavailable() // stopping: off
}

// stopResult is Run's result: why the gate refused the plugin, why a
// cold start gave up, a fast stop forced by a repeated signal, or the
// workers that did not stop cleanly.
func (pr *Primary) stopResult() error {
	if pr.gateErr != nil {
		return pr.gateErr
	}
	if pr.coldErr != nil {
		return pr.coldErr
	}
	if pr.fastSignal != nil {
		return &FastStopError{Signal: pr.fastSignal}
	}
	if len(pr.stopErrs) > 0 {
		return fmt.Errorf("stop: %w", errors.Join(pr.stopErrs...))
	}
	return nil
}

// runGate runs opts.Gate and opens or closes the gate with its result.
func (pr *Primary) runGate(ctx context.Context) {
	err := pr.opts.Gate(ctx)
	pr.do(func() { pr.openGate(err) })
}

// openGate lets held workers serve, or stops everything when the gate
// refused Spec: no worker has served it.
func (pr *Primary) openGate(err error) {
	if !pr.gated || pr.stopping {
		return
	}
	pr.gated = false
	if err != nil {
		pr.gateErr = err
		pr.log.Error("plugin refused; stopping the workers that loaded it (none served)", keyErr, err)
		pr.beginStop(true)
		return
	}
	for p := range pr.procs {
		if p.held {
			p.held = false
			p.ctrl.send(message{Type: msgServe})
		}
	}
}

// controlPath is where the control socket listens ("-" for none).
func (pr *Primary) controlPath() string {
	if pr.ctl == nil {
		return "-"
	}
	return pr.ctl.Path()
}

func (pr *Primary) closeListener() {
	pr.ln.Close()
	pr.lnFile.Close()
	if pr.boardFile != nil {
		pr.boardFile.Close()
	}
}

// claimBalanceSlot is a new worker's entry in the balance table, -1 when
// there is no table or it is full (that worker accepts unbalanced).
func (pr *Primary) claimBalanceSlot() int {
	if pr.board == nil {
		return -1
	}
	i, ok := pr.board.Claim()
	if !ok {
		return -1
	}
	return i
}

// post hands an event to the supervisor unless it has returned.
func (pr *Primary) post(ev event) {
	select {
	case pr.events <- ev:
	case <-pr.quit:
	}
}

func (pr *Primary) onSignal(sig os.Signal) {
	pr.log.Info("signal", "signal", sig.String())
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		// Counted here, not from pr.stopping: the caller's context may have
		// been cancelled by this same signal already.
		pr.stopSignals++
		if pr.stopSignals > 1 && !pr.fast {
			pr.fastSignal = sig
		}
		pr.beginStop(pr.stopSignals > 1)
	case syscall.SIGQUIT:
		pr.beginStop(true)
	case syscall.SIGHUP:
		go pr.reload()
	case syscall.SIGTTIN:
		pr.desired++
		pr.log.Info("scaling up", keyCount, pr.desired)
	case syscall.SIGTTOU:
		if pr.desired > 1 {
			pr.desired--
			pr.log.Info("scaling down", keyCount, pr.desired)
		}
	}
}

// reload asks Reload for the new Spec (default: the current one) and
// queues a roll to it.
func (pr *Primary) reload() {
	var spec Spec
	pr.tls.check()
	pr.sd.reloading("reloading: checking the plugin")
	if pr.opts.Reload != nil {
		s, err := pr.opts.Reload(context.Background())
		if err != nil {
			pr.log.Error("reload failed; workers keep the old version", keyErr, err)
			pr.sd.reloadEnded("reload failed (" + err.Error() + "); serving the old version")
			return
		}
		spec = s
	} else if !pr.do(func() { spec = pr.spec }) {
		return
	}
	pr.Submit(RollRequest{Spec: spec, Restart: true, Trigger: "signal"})
}

// beginStop drains every worker (or stops them fast) and closes the
// primary's copy of the listener: once the workers close theirs, new
// connections are refused instead of queueing forever.
func (pr *Primary) beginStop(fast bool) {
	if pr.stopping && (pr.fast || !fast) {
		return
	}
	pr.log.Info("stopping", "fast", fast, keyCount, len(pr.procs))
	pr.sd.stopping(fmt.Sprintf("stopping (fast=%t): draining %d workers", fast, len(pr.procs)))
	pr.stopping, pr.fast = true, fast
	pr.closeListener()
	now := time.Now()
	for p := range pr.procs {
		switch {
		case p.state == stateStarting:
			pr.kill(p, "stopped before ready") // nothing to drain
		case fast:
			p.reason = "stop"
			p.state = stateStopping
			p.ctrl.send(message{Type: msgStop})
			p.killAt = now.Add(2 * time.Second)
		default:
			pr.drainProc(p, "stop")
		}
	}
}
