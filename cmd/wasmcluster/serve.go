package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/host"
)

// serve preflights the plugin, listens, and runs the process layer
// (processes.go, workers/) until ctx is done or a stop signal arrives, then
// drains. The plugin is checked before the socket is opened so a refused
// plugin never binds the port.
func serve(ctx context.Context, pluginPath string, cfg config.Config, po processOptions, log *slog.Logger) error {
	file, err := pluginFile(ctx, pluginPath) // a Go package directory is built first
	if err != nil {
		return err
	}
	hcfg, err := hostConfig(filepath.Base(pluginPath), cfg, log)
	if err != nil {
		return err
	}
	return serveProcesses(ctx, pluginPath, file, hcfg, cfg, po, log)
}

// loadPlugin reads the wasm file and starts a host for it, configured from
// cfg; name tags it in logs and errors. Errors carry their exit code.
func loadPlugin(ctx context.Context, file, name string, cfg config.Config, log *slog.Logger) (*host.Plugin, error) {
	wasm, err := os.ReadFile(file)
	if err != nil {
		return nil, runtimeError(fmt.Errorf("read plugin: %w", err))
	}
	hcfg, err := hostConfig(name, cfg, log)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	p, err := host.New(ctx, wasm, hcfg)
	if err != nil {
		return nil, runtimeError(err) // the host's errors name the plugin
	}
	log.Info("plugin loaded", "file", file, "sha256", p.Hash(), "took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// hostConfig maps the CLI's configuration onto the host's plain struct.
func hostConfig(name string, cfg config.Config, log *slog.Logger) (host.Config, error) {
	guestConfig := []byte(cfg.Plugin.Config)
	if f := cfg.Plugin.ConfigFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return host.Config{}, usageError(&config.FieldError{Key: "plugin.config_file", Value: f, Msg: err.Error()})
		}
		guestConfig = b
	}
	return host.Config{
		Name:             name,
		CacheDir:         cfg.ResolveCacheDir(),
		GuestConfig:      guestConfig,
		Upstream:         cfg.UpstreamURL(),
		PoolSize:         cfg.Plugin.PoolSize,
		RequestTimeout:   cfg.RequestTimeout,
		MaxRequestBody:   int64(cfg.MaxRequestBody),
		MemoryLimitPages: cfg.Plugin.MemoryLimitPages,
		Logger:           log,
	}, nil
}

func newHTTPServer(cfg config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    int(cfg.MaxHeaderBytes),
		// No ReadTimeout/WriteTimeout: request_timeout bounds the plugin, and
		// a whole-response deadline would cut off streamed upstream bodies.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveHTTP serves on ln until ctx is done, then stops accepting and gives
// in-flight requests up to drain to finish. http.Server.Shutdown is good
// enough for a final stop; rolling workers needs the careful drain of
// DESIGN.md §5, which lives in the process layer.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener, drain time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", listenerAddr(ln), err)
	case <-ctx.Done():
	}
	log.Info("stopping: draining in-flight requests", "drain_timeout", drain)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // Serve returns http.ErrServerClosed as soon as Shutdown starts.
	if err != nil {
		srv.Close()
		return fmt.Errorf("drain: requests still running after drain_timeout %s were cut off: %w", drain, err)
	}
	log.Info("stopped")
	return nil
}
