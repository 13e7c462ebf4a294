package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/control"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// runInProcess serves the plugin in the primary's own process (Workers ==
// 0, for debugging): same careful drain and signals, no supervision. HUP
// loads the new Spec and swaps it in once it passed its self-test.
func runInProcess(ctx context.Context, opts PrimaryOptions, ln net.Listener) error {
	defer ln.Close()
	if opts.Load == nil {
		return errors.New("in-process serving needs PrimaryOptions.Load")
	}
	log := opts.Logger.With(keyWorker, 0, keyPID, os.Getpid())
	p, err := opts.Load(ctx, opts.Spec)
	if err != nil {
		return fmt.Errorf("load plugin: %w", err)
	}
	if err := httpserve.SelfTest(ctx, p, opts.Server.SelfTestPath); err != nil {
		p.Close(context.Background())
		return err
	}
	spec := opts.Spec
	version := func(p httpserve.Plugin, s Spec) string {
		if hp, ok := p.(interface{ Hash() string }); ok && s.Version == "" {
			return hp.Hash()
		}
		return s.Version
	}
	ver := version(p, spec)
	srv := httpserve.New(opts.Server, p, log, nil)
	srv.Serve(ln)
	started := time.Now()
	log.Info("serving in-process", keyAddr, ln.Addr().String(), keyVersion, ver)

	statusCh := make(chan chan control.Status)
	ctl, err := control.Open(opts.ControlPath, map[string]control.Handler{
		control.CmdStatus: func(ctx context.Context, _ json.RawMessage) (any, error) {
			ch := make(chan control.Status, 1)
			select {
			case statusCh <- ch:
				return <-ch, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	if err != nil {
		srv.Stop()
		p.Close(context.Background())
		return err
	}
	if ctl != nil {
		go ctl.Serve()
		defer ctl.Close()
		log.Info("control socket", "control", ctl.Path())
	}
	if opts.OnReady != nil {
		go opts.OnReady(ln.Addr())
	}

	var sigs chan os.Signal
	if !opts.IgnoreSignals {
		sigs = make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
		defer signal.Stop(sigs)
	}
	fast, stopSignals := false, 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case ch := <-statusCh:
			ch <- control.Status{
				PID: os.Getpid(), Listen: ln.Addr().String(), UptimeSeconds: time.Since(started).Seconds(),
				InProcess: true, Version: ver,
				Workers: []control.WorkerStatus{{
					ID: 0, PID: os.Getpid(), State: string(stateReady), Version: ver,
					UptimeSeconds: time.Since(started).Seconds(), Requests: srv.Requests(),
					InFlight: srv.InFlight(), RSSBytes: readRSS(os.Getpid()),
				}},
			}
		case sig := <-sigs:
			log.Info("signal", "signal", sig.String())
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				stopSignals++
				break loop
			case syscall.SIGQUIT:
				fast = true
				break loop
			case syscall.SIGHUP:
				if v, err := reloadInProcess(ctx, opts, &spec, srv); err != nil {
					log.Error("reload failed; keeping the old version", keyErr, err)
				} else {
					ver = v
					log.Info("reloaded in-process", keyVersion, ver)
				}
			default:
				log.Warn("TTIN/TTOU ignored: serving in-process (--workers 0)")
			}
		}
	}
	log.Info("stopping", "fast", fast)
	var derr error
	var fastSig os.Signal
	if fast {
		derr = srv.Stop()
	} else {
		// The caller's context and our channel both see the first signal;
		// only a second TERM/INT on the channel cuts the drain short.
		dctx, cancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
		drained := make(chan error, 1)
		go func() { drained <- srv.Drain(dctx) }()
	wait:
		for {
			select {
			case derr = <-drained:
				break wait
			case sig := <-sigs:
				if sig == syscall.SIGQUIT || sig == syscall.SIGTERM || sig == syscall.SIGINT {
					if stopSignals++; sig == syscall.SIGQUIT || stopSignals > 1 {
						if sig != syscall.SIGQUIT {
							fastSig = sig
						}
						srv.Stop()
						cancel()
					}
				}
			}
		}
		cancel()
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Plugin().Close(cctx); err != nil {
		log.Warn("close plugin", keyErr, err)
	}
	if fastSig != nil {
		return &FastStopError{Signal: fastSig}
	}
	if derr != nil && !fast {
		return fmt.Errorf("in-process: %w", derr)
	}
	return nil
}

// reloadInProcess loads the Reload Spec (or the same one again), self-tests
// it and swaps it in; the old plugin is closed once its requests finished.
func reloadInProcess(ctx context.Context, opts PrimaryOptions, spec *Spec, srv *httpserve.Server) (string, error) {
	next := *spec
	if opts.Reload != nil {
		s, err := opts.Reload(ctx)
		if err != nil {
			return "", err
		}
		next = s
	}
	np, err := opts.Load(ctx, next)
	if err != nil {
		return "", fmt.Errorf("load plugin: %w", err)
	}
	if err := httpserve.SelfTest(ctx, np, opts.Server.SelfTestPath); err != nil {
		np.Close(context.Background())
		return "", err
	}
	sctx, cancel := context.WithTimeout(ctx, opts.DrainTimeout)
	defer cancel()
	old, err := srv.Swap(sctx, np)
	old.Close(context.Background()) // a straggler gets a 500 rather than a leak
	*spec = next
	if hp, ok := np.(interface{ Hash() string }); ok && next.Version == "" {
		return hp.Hash(), err
	}
	return next.Version, err
}
