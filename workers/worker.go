package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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
// self-tests it, serves, heartbeats, and drains carefully when told to,
// when the primary goes away, or on SIGTERM. It returns nil after a clean
// drain.
func RunWorker(ctx context.Context, opts WorkerOptions) error {
	if !IsWorkerProcess() || !isSocket(controlFD) || !isSocket(listenerFD) {
		return ErrNotWorker
	}
	os.Unsetenv(workerEnv) // not for anything the plugin host might start
	if opts.Load == nil {
		return errors.New("worker: WorkerOptions.Load is nil")
	}
	log, level := opts.Logger, opts.LogLevel
	if log == nil {
		level = new(slog.LevelVar)
		level.Set(slog.LevelDebug) // until the hello says
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}

	// Terminal signals go to the primary (workers run in their own process
	// group); a stray broadcast must not kill a worker outside its drain.
	// SIGUSR1 too: `systemctl kill -s USR1` (log reopen) reaches every process.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE, syscall.SIGUSR1)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM) // also our Pdeathsig
	defer signal.Stop(term)

	cf := os.NewFile(controlFD, "control")
	cc, err := net.FileConn(cf)
	cf.Close()
	if err != nil {
		return fmt.Errorf("worker: control socket: %w", err)
	}
	defer cc.Close()
	ctrl := newConn(cc)
	m, err := ctrl.recv()
	if err != nil {
		return fmt.Errorf("worker: read hello: %w", err)
	}
	if m.Type != msgHello || m.Hello == nil {
		return fmt.Errorf("worker: first message is %q, want hello", m.Type)
	}
	h := *m.Hello
	if level != nil {
		level.Set(h.LogLevel)
	}
	log = log.With(keyWorker, h.ID)

	lf := os.NewFile(listenerFD, "listener")
	ln, err := net.FileListener(lf) // lf is non-blocking: Fd() does not flip it
	lf.Close()
	if err != nil {
		return fatal(ctrl, fmt.Errorf("worker: inherited listener: %w", err))
	}

	// Heartbeats start now so a slow compile is not mistaken for a hang.
	var srv atomic.Pointer[httpserve.Server]
	hbDone := make(chan struct{})
	defer close(hbDone)
	go heartbeat(ctrl, h.HeartbeatInterval, hbDone, srv.Load)

	// Commands from the primary; EOF means it died.
	cmds := make(chan string, 4)
	go func() {
		for {
			m, err := ctrl.recv()
			if err != nil {
				cmds <- "eof"
				return
			}
			cmds <- m.Type
		}
	}()

	tHello := time.Now()
	p, err := opts.Load(ctx, h.Spec)
	if err != nil {
		return fatal(ctrl, fmt.Errorf("load plugin: %w", err))
	}
	tLoaded := time.Now()
	closePlugin := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Close(cctx); err != nil {
			log.Warn("close plugin", keyErr, err)
		}
	}
	if err := httpserve.SelfTest(ctx, p, h.Server.SelfTestPath); err != nil {
		closePlugin()
		return fatal(ctrl, err)
	}
	if h.Hold {
		// Loaded and self-tested; the version may not take traffic until
		// the primary's check passed.
		log.Debug("worker loaded; waiting for the primary's check", "load", tLoaded.Sub(tHello).Round(time.Microsecond).String())
		select {
		case c := <-cmds:
			if c != msgServe {
				closePlugin()
				if c == "eof" {
					return errors.New("worker: primary gone before the plugin was cleared to serve")
				}
				return nil // stopped before serving: nothing to drain
			}
		case <-term:
			closePlugin()
			return nil
		case <-ctx.Done():
			closePlugin()
			return nil
		}
	}
	version := versionOf(p, h.Spec)
	s := httpserve.New(h.Server, p, log, os.Stderr) // access lines: the primary relays stderr
	srv.Store(s)
	s.Serve(ln)
	if err := ctrl.send(message{Type: msgReady, Version: version}); err != nil {
		s.Stop()
		closePlugin()
		return fmt.Errorf("worker: report ready: %w", err)
	}
	log.Debug("worker start phases", "exec_to_hello", tHello.Sub(processStart).Round(time.Microsecond).String(),
		"load", tLoaded.Sub(tHello).Round(time.Microsecond).String(), "self_test", time.Since(tLoaded).Round(time.Microsecond).String())

	fast := false
	select {
	case c := <-cmds:
		switch c {
		case msgStop:
			fast = true
		case "eof":
			log.Warn("primary is gone; draining")
		}
	case <-term:
		log.Info("SIGTERM; draining")
	case <-ctx.Done():
	}
	var derr error
	if fast {
		derr = s.Stop()
	} else {
		ctrl.send(message{Type: msgDraining})
		dctx, cancel := context.WithTimeout(context.Background(), h.DrainTimeout)
		derr = s.Drain(dctx)
		cancel()
	}
	ctrl.send(beat(s)) // the final counts, for the primary's totals
	closePlugin()
	if derr != nil {
		return fatal(ctrl, fmt.Errorf("worker: %w", derr))
	}
	return nil
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
