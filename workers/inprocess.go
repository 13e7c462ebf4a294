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
	if err := selfTest(ctx, p, opts.Server.SelfTestPath); err != nil {
		p.Close(context.Background())
		return err
	}
	spec := opts.Spec
	version := func(p Plugin, s Spec) string {
		if hp, ok := p.(interface{ Hash() string }); ok && s.Version == "" {
			return hp.Hash()
		}
		return s.Version
	}
	ver := version(p, spec)
	srv := newServer(opts.Server, p, log)
	srv.serve(ln)
	started := time.Now()
	log.Info("serving in-process", keyAddr, ln.Addr().String(), keyVersion, ver)

	statusCh := make(chan chan Status)
	if opts.ControlPath != "-" {
		ctl, err := listenControl(opts.ControlPath, map[string]controlHandler{
			"status": func(ctx context.Context, _ json.RawMessage) (any, error) {
				ch := make(chan Status, 1)
				select {
				case statusCh <- ch:
					return <-ch, nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			},
		})
		if err != nil {
			srv.stop()
			p.Close(context.Background())
			return err
		}
		go ctl.serve()
		defer ctl.close()
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
	fast := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case ch := <-statusCh:
			ch <- Status{
				PID: os.Getpid(), Listen: ln.Addr().String(), UptimeSeconds: time.Since(started).Seconds(),
				InProcess: true, Version: ver,
				Workers: []WorkerStatus{{
					ID: 0, PID: os.Getpid(), State: string(stateReady), Version: ver,
					UptimeSeconds: time.Since(started).Seconds(), Requests: srv.requests.Load(),
					InFlight: srv.inFlight.Load(), RSSBytes: readRSS(os.Getpid()),
				}},
			}
		case sig := <-sigs:
			log.Info("signal", "signal", sig.String())
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				break loop
			case syscall.SIGQUIT:
				fast = true
				break loop
			case syscall.SIGHUP:
				if opts.Reload != nil {
					s, err := opts.Reload(ctx)
					if err != nil {
						log.Error("reload failed; keeping the old version", keyErr, err)
						continue
					}
					spec = s
				}
				np, err := opts.Load(ctx, spec)
				if err == nil {
					if err = selfTest(ctx, np, opts.Server.SelfTestPath); err != nil {
						np.Close(context.Background())
					}
				}
				if err != nil {
					log.Error("reload failed; keeping the old version", keyErr, err)
					continue
				}
				old, err := srv.swap(ctx, np)
				if err != nil {
					log.Warn("old plugin still busy", keyErr, err)
				}
				old.Close(context.Background())
				ver = version(np, spec)
				log.Info("reloaded in-process", keyVersion, ver)
			default:
				log.Warn("TTIN/TTOU ignored: serving in-process (--workers 0)")
			}
		}
	}
	var derr error
	if fast {
		derr = srv.stop()
	} else {
		dctx, cancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
		derr = srv.drain(dctx)
		cancel()
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.plugin().Close(cctx); err != nil {
		log.Warn("close plugin", keyErr, err)
	}
	if derr != nil {
		return fmt.Errorf("in-process drain: %w", derr)
	}
	log.Info("stopped")
	return nil
}
