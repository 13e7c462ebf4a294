package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
	"github.com/wasmcluster/wasmcluster/workers/admin"
	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// inProcess serves the plugin in the primary's own process (Workers ==
// InProcess). It has no workers to supervise, but is otherwise the same
// service as a primary with workers, built from the same parts: the
// httpserve server (meter, access log, careful drain), the admin listener,
// the control socket, systemd notifications and signals. HUP loads the
// new Spec and swaps it in once it passed its self-test.
type inProcess struct {
	loop    // run's goroutine answers cmds; quit closes once it drained
	opts    PrimaryOptions
	log     *slog.Logger
	ln      net.Listener
	srv     *httpserve.Server
	tls     *serverTLS // nil without TLS (tls.go)
	sd      *notifier
	ctlPath string
	started time.Time
	reloads sync.Mutex // one reload at a time

	// loop-owned
	spec        Spec
	version     string
	stopping    bool
	stopSignals int // TERM/INT received; the second one stops fast
}

// runInProcess serves until ctx ends or a stop signal arrives, and drains.
func runInProcess(ctx context.Context, opts PrimaryOptions, ln net.Listener) error {
	defer ln.Close()
	if opts.Admin != nil {
		defer opts.Admin.Close()
	}
	if opts.Load == nil {
		return errors.New("in-process serving needs PrimaryOptions.Load")
	}
	ip := &inProcess{loop: newLoop(), opts: opts, ln: ln, spec: opts.Spec,
		log: opts.Logger.With(keyWorker, 0, keyPID, os.Getpid())}
	var err error
	if ip.tls, err = newServerTLS(opts.TLS, ip.log); err != nil {
		return err
	}
	p, ver, err := ip.load(ctx, opts.Spec)
	if err != nil {
		return err
	}
	// Access lines go through the log as a worker's relayed stderr does.
	ip.srv, ip.version, ip.started = httpserve.New(opts.Server, p, ip.log, relayWriter{ip.log}), ver, time.Now()
	ip.serveListener()
	ip.log.Info("serving in-process", keyAddr, ln.Addr().String(), keyVersion, ver)
	sigs, stopSignals := catchSignals(opts.IgnoreSignals)
	defer stopSignals()
	stopServices, err := ip.startServices()
	if err != nil {
		ip.srv.Stop()
		p.Close(context.Background())
		return err
	}
	defer stopServices()
	rctx, cancelReloads := context.WithCancel(ctx)
	fast := ip.serve(ctx, rctx, sigs)
	cancelReloads()
	fastSig, derr := ip.stop(fast, sigs)
	close(ip.quit)
	ip.closePlugin()
	switch {
	case fastSig != nil:
		return &FastStopError{Signal: fastSig}
	case derr != nil && !fast:
		return fmt.Errorf("in-process: %w", derr)
	}
	return nil
}

// load loads spec and self-tests it (with a self-test path); the version is what status shows.
func (ip *inProcess) load(ctx context.Context, spec Spec) (httpserve.Plugin, string, error) {
	p, err := ip.opts.Load(ctx, spec)
	if err != nil {
		return nil, "", fmt.Errorf("load plugin: %w", err)
	}
	if err := selfTest(ctx, p, ip.opts.Server.SelfTestPath); err != nil {
		p.Close(context.Background())
		return nil, "", err
	}
	return p, versionOf(p, spec), nil
}

// startServices opens the control socket, systemd notifications and the
// admin listener, then reports ready. The returned func stops them.
func (ip *inProcess) startServices() (stop func(), err error) {
	ctl, err := control.Open(ip.opts.ControlPath, map[string]control.Handler{control.CmdStatus: ip.controlStatus})
	if err != nil {
		return nil, err
	}
	var stops []func()
	if ctl != nil {
		ip.ctlPath = ctl.Path()
		ctl.ErrorLog = ip.log
		go ctl.Serve()
		stops = append(stops, ctl.Close)
		ip.log.Info("control socket", "control", ctl.Path())
	}
	ip.sd = openNotifier(ip.log, &ip.loop)
	stops = append(stops, ip.sd.close)
	if ip.opts.Admin != nil {
		a := admin.Serve(ip.opts.Admin, inProcessSource{ip}, ip.ln)
		stops = append(stops, func() { a.Close() })
		ip.log.Info("admin listening", keyAddr, ip.opts.Admin.Addr().String())
	}
	ip.sd.ready(ip.readyLine())
	if ip.opts.OnReady != nil {
		go ip.opts.OnReady(ip.ln.Addr())
	}
	return func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}, nil
}

// serve is the loop while serving: it answers commands and signals until
// ctx ends or a stop signal arrives, and reports whether to stop fast.
// Reloads run under rctx.
func (ip *inProcess) serve(ctx, rctx context.Context, sigs <-chan os.Signal) (fast bool) {
	for {
		select {
		case <-ctx.Done():
			return false
		case f := <-ip.cmds:
			f()
		case sig := <-sigs:
			ip.log.Info("signal", "signal", sig.String())
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				ip.stopSignals++
				return false
			case syscall.SIGQUIT:
				return true
			case syscall.SIGHUP:
				go ip.tls.check()
				go ip.reload(rctx)
			default:
				ip.log.Warn("TTIN/TTOU ignored: serving in-process (--workers 0)")
			}
		}
	}
}

// stop drains the server (fast: closes it at once) while the loop keeps
// answering commands. The caller's context and sigs both see the first
// signal, so only a second TERM or INT on sigs (or a QUIT) cuts the drain
// short; fastSig is that TERM or INT.
func (ip *inProcess) stop(fast bool, sigs <-chan os.Signal) (fastSig os.Signal, err error) {
	ip.stopping = true
	ip.log.Info("stopping", "fast", fast)
	ip.sd.stopping(fmt.Sprintf("stopping (fast=%t): draining in-process", fast))
	if fast {
		return nil, ip.srv.Stop()
	}
	dctx, cancel := context.WithTimeout(context.Background(), ip.opts.DrainTimeout)
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- ip.srv.Drain(dctx) }()
	for {
		select {
		case err := <-drained:
			return fastSig, err
		case f := <-ip.cmds:
			f()
		case sig := <-sigs:
			if sig != syscall.SIGQUIT && sig != syscall.SIGTERM && sig != syscall.SIGINT {
				continue
			}
			if ip.stopSignals++; sig == syscall.SIGQUIT || ip.stopSignals > 1 {
				if sig != syscall.SIGQUIT {
					fastSig = sig
				}
				ip.srv.Stop()
				cancel()
			}
		}
	}
}

// closePlugin closes the serving plugin once a reload under way (its
// context is done by now) has finished with it.
func (ip *inProcess) closePlugin() {
	ip.reloads.Lock()
	defer ip.reloads.Unlock()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ip.srv.Plugin().Close(cctx); err != nil {
		ip.log.Warn("close plugin", keyErr, err)
	}
}

// readyLine is the STATUS= text while serving (loop goroutine).
func (ip *inProcess) readyLine() string {
	return fmt.Sprintf("serving %s in-process, version %s", ip.ln.Addr(), digest.ShortOrDash(ip.version))
}
