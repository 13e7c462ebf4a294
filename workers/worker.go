package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmcluster/wasmcluster/plugins/preflight"
	"github.com/wasmcluster/wasmcluster/workers/balance"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// processStart approximates when this process started (package init).
var processStart = time.Now()

// ErrNotWorker is returned by RunWorker in a process not started by a
// primary (e.g. the hidden worker subcommand run by hand).
var ErrNotWorker = errors.New("this is a wasmcluster worker process: `wasmcluster serve` starts it with an inherited socket; it is not meant to be run by hand")

// IsWorkerProcess reports whether this process was started as a worker by
// a primary (test binaries use it in TestMain).
func IsWorkerProcess() bool { return os.Getenv(workerEnv) == protoVersion }

// RunWorker is the worker side: it inherits the listener (fd 3) and the
// control socketpair (fd 4), loads the plugin named in the primary's hello,
// self-tests it when a self-test path is set, serves, heartbeats, and
// drains carefully when told to, when the primary goes away, or on
// SIGTERM. It returns nil after a clean drain.
func RunWorker(ctx context.Context, opts WorkerOptions) error {
	if !IsWorkerProcess() || !isSocket(controlFD) || !isSocket(listenerFD) {
		return ErrNotWorker
	}
	os.Unsetenv(workerEnv) // not for anything the plugin host might start
	if opts.Load == nil {
		return errors.New("worker: WorkerOptions.Load is nil")
	}
	term, stopSignals := workerSignals()
	defer stopSignals()
	w, err := connectPrimary(opts)
	if err != nil {
		return err
	}
	defer w.nc.Close()
	if w.tls, err = newWorkerTLS(w.hello, w.log); err != nil {
		return fatal(w.ctrl, fmt.Errorf("worker: TLS certificates: %w", err))
	}
	ln, err := inheritListener()
	if err != nil {
		return fatal(w.ctrl, err)
	}
	// Heartbeats start now so a slow compile is not mistaken for a hang.
	hbDone := make(chan struct{})
	defer close(hbDone)
	go heartbeat(w.ctrl, w.hello.HeartbeatInterval, hbDone, w.srv.Load)
	go w.readCommands()

	tHello := time.Now()
	if err := w.load(ctx, opts.Load); err != nil {
		return err
	}
	tLoaded := time.Now()
	if w.hello.Hold {
		w.log.Debug("worker loaded; waiting for the primary's check", "load", tLoaded.Sub(tHello).Round(time.Microsecond).String())
		if serve, err := w.waitServe(ctx, term); !serve {
			w.closePlugin()
			return err
		}
	}
	s, err := w.serve(w.balanced(ln))
	if err != nil {
		return err
	}
	w.log.Debug("worker start phases", "exec_to_hello", tHello.Sub(processStart).Round(time.Microsecond).String(),
		"load", tLoaded.Sub(tHello).Round(time.Microsecond).String(), "self_test", time.Since(tLoaded).Round(time.Microsecond).String())
	return w.stop(s, w.waitStop(ctx, term))
}

// worker is the worker process's side of the protocol.
type worker struct {
	log    *slog.Logger
	nc     net.Conn // the control socketpair
	ctrl   *conn
	hello  hello
	cmds   chan string // message types from the primary; "eof" once it is gone
	srv    atomic.Pointer[httpserve.Server]
	plugin httpserve.Plugin
	tls    *workerTLS // nil without TLS (tls.go)
}

// workerSignals ignores the signals meant for the primary and delivers
// SIGTERM (also the Pdeathsig), which drains.
func workerSignals() (term chan os.Signal, stop func()) {
	// Terminal signals go to the primary (workers run in their own process
	// group); a stray broadcast must not kill a worker outside its drain.
	// SIGUSR1 too: `systemctl kill -s USR1` (log reopen) reaches every process.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE, syscall.SIGUSR1)
	term = make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	return term, func() { signal.Stop(term) }
}

// connectPrimary opens the control socketpair (fd 4) and reads the hello;
// the log follows the primary's level from then on.
func connectPrimary(opts WorkerOptions) (*worker, error) {
	log, level := opts.Logger, opts.LogLevel
	if log == nil {
		level = new(slog.LevelVar)
		level.Set(slog.LevelDebug) // until the hello says
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	cf := os.NewFile(controlFD, "control")
	nc, err := net.FileConn(cf)
	cf.Close()
	if err != nil {
		return nil, fmt.Errorf("worker: control socket: %w", err)
	}
	w := &worker{nc: nc, ctrl: newConn(nc), cmds: make(chan string, 4)}
	m, err := w.ctrl.recv()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("worker: read hello: %w", err)
	}
	if m.Type != msgHello || m.Hello == nil {
		nc.Close()
		return nil, fmt.Errorf("worker: first message is %q, want hello", m.Type)
	}
	w.hello = *m.Hello
	if level != nil {
		level.Set(w.hello.LogLevel)
	}
	w.log = log.With(keyWorker, w.hello.ID)
	return w, nil
}

// balanced wraps ln to accept only this worker's share of connections when
// the primary handed over its balance table (fd 5); without one, or if it
// cannot be mapped, ln accepts as it comes.
func (w *worker) balanced(ln net.Listener) net.Listener {
	if !w.hello.Balance {
		return ln
	}
	f := os.NewFile(balanceFD, "balance")
	defer f.Close() // the mapping outlives the descriptor
	b, err := balance.Open(f)
	if err != nil {
		w.log.Warn("accepting without balancing", "err", err)
		return ln
	}
	return balance.Listener(ln, b.Slot(w.hello.BalanceSlot))
}

// inheritListener is the primary's listening socket (fd 3).
func inheritListener() (net.Listener, error) {
	lf := os.NewFile(listenerFD, "listener")
	ln, err := net.FileListener(lf) // lf is non-blocking: Fd() does not flip it
	lf.Close()
	if err != nil {
		return nil, fmt.Errorf("worker: inherited listener: %w", err)
	}
	return ln, nil
}

// readCommands delivers the primary's commands; EOF means it died.
func (w *worker) readCommands() {
	for {
		m, err := w.ctrl.recv()
		if err != nil {
			w.cmds <- "eof"
			return
		}
		if m.Type == msgTLS {
			w.tls.update(m)
			continue
		}
		w.cmds <- m.Type
	}
}

// load loads the hello's Spec and, when a self-test path is set,
// self-tests it; a failure is reported to the primary.
func (w *worker) load(ctx context.Context, load LoadFunc) error {
	p, err := load(ctx, w.hello.Spec)
	if err != nil {
		return fatal(w.ctrl, fmt.Errorf("load plugin: %w", err))
	}
	w.plugin = p
	if err := selfTest(ctx, p, w.hello.Server.SelfTestPath); err != nil {
		w.closePlugin()
		return fatal(w.ctrl, err)
	}
	return nil
}

// selfTest is the primary's preflight self-test, applied by whoever loads
// a plugin to serve it: the same definition of a plugin that answers.
func selfTest(ctx context.Context, p httpserve.Plugin, path string) error {
	if path == "" {
		return nil
	}
	if err := preflight.SelfTest(ctx, p, path); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	return nil
}

// waitServe holds a loaded worker until the primary's check passed
// (msgServe). Any other end means it never serves; err says whether that
// was a failure.
func (w *worker) waitServe(ctx context.Context, term <-chan os.Signal) (serve bool, err error) {
	select {
	case c := <-w.cmds:
		switch c {
		case msgServe:
			return true, nil
		case "eof":
			return false, errors.New("worker: primary gone before the plugin was cleared to serve")
		}
		return false, nil // stopped before serving: nothing to drain
	case <-term:
		return false, nil
	case <-ctx.Done():
		return false, nil
	}
}

// serve starts serving the inherited listener and reports ready.
func (w *worker) serve(ln net.Listener) (*httpserve.Server, error) {
	if w.hello.Procs > 0 {
		runtime.GOMAXPROCS(w.hello.Procs) // loaded with every CPU; serves with its share
	}
	s := httpserve.New(w.hello.Server, w.plugin, w.log, os.Stderr) // access lines: the primary relays stderr
	w.srv.Store(s)
	if w.tls != nil {
		s.ServeTLS(ln, w.tls.cfg)
	} else {
		s.Serve(ln)
	}
	if err := w.ctrl.send(message{Type: msgReady, Version: versionOf(w.plugin, w.hello.Spec)}); err != nil {
		s.Stop()
		w.closePlugin()
		return nil, fmt.Errorf("worker: report ready: %w", err)
	}
	return s, nil
}

// waitStop serves until the primary says drain or stop, goes away, or
// SIGTERM arrives; fast is true for a stop.
func (w *worker) waitStop(ctx context.Context, term <-chan os.Signal) (fast bool) {
	select {
	case c := <-w.cmds:
		switch c {
		case msgStop:
			return true
		case "eof":
			w.log.Warn("primary is gone; draining")
		}
	case <-term:
		w.log.Info("SIGTERM; draining")
	case <-ctx.Done():
	}
	return false
}

// stop drains s (fast: closes it), sends the final counts and closes the
// plugin.
func (w *worker) stop(s *httpserve.Server, fast bool) error {
	var err error
	if fast {
		err = s.Stop()
	} else {
		w.ctrl.send(message{Type: msgDraining})
		dctx, cancel := context.WithTimeout(context.Background(), w.hello.DrainTimeout)
		err = s.Drain(dctx)
		cancel()
	}
	w.ctrl.send(beat(s)) // the final counts, for the primary's totals
	w.closePlugin()
	if err != nil {
		return fatal(w.ctrl, fmt.Errorf("worker: %w", err))
	}
	return nil
}

func (w *worker) closePlugin() {
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.plugin.Close(cctx); err != nil {
		w.log.Warn("close plugin", keyErr, err)
	}
}

// fatal tells the primary why this worker is giving up, then returns err.
func fatal(c *conn, err error) error {
	c.send(message{Type: msgFatal, Error: err.Error()})
	return err
}

func heartbeat(c *conn, every time.Duration, done <-chan struct{}, srv func() *httpserve.Server) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if c.send(beat(srv())) != nil {
			return
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// beat is the heartbeat message: s's request counts and metrics (none
// before it serves).
func beat(s *httpserve.Server) message {
	msg := message{Type: msgBeat}
	if s != nil {
		msg.Requests, msg.InFlight = s.Requests(), s.InFlight()
		msg.Metrics = s.Metrics()
	}
	return msg
}
