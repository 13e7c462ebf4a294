package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

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
	if hcfg.Uninterruptible && po.Workers == 0 {
		// Nothing outside could stop a runaway guest in this process.
		return usageError(&config.FieldError{Key: "plugin.interrupt", Value: "false",
			Msg: "needs worker processes (--workers 1 or more): with --workers 0 a guest that overruns its deadline could never be stopped"})
	}
	return serveProcesses(ctx, pluginPath, file, hcfg, cfg, po, log)
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
		Uninterruptible:  !cfg.Plugin.Interrupt,
		InitTimeout:      cfg.Plugin.InitTimeout,
		Logger:           log,
	}, nil
}
