package main

// Operations wiring of serve: the admin listener, recycling limits and the
// access log (workers/ does the work; this maps the config onto it).

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/workers"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// listenAdmin binds the admin listener, or returns nil when admin is "off".
// The default address being taken (another instance on this machine) only
// disables it with a warning, as the control socket falls back beside a
// taken default; an address someone chose must work.
func listenAdmin(cfg config.Config, log *slog.Logger) (net.Listener, error) {
	if cfg.Admin == "off" || cfg.Admin == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Admin)
	if err == nil {
		return ln, nil
	}
	if cfg.Admin == config.Default().Admin && errors.Is(err, syscall.EADDRINUSE) {
		log.Warn("admin listener disabled: its default address is taken (set admin or --admin to another address)", "admin", cfg.Admin)
		return nil, nil
	}
	return nil, fmt.Errorf("admin listener %s: %w", cfg.Admin, err)
}

func recycleOptions(cfg config.Config) workers.RecycleOptions {
	r := cfg.Recycle
	return workers.RecycleOptions{
		MaxRequests:       uint64(r.MaxRequests),
		MaxRequestsJitter: uint64(r.MaxRequestsJitter),
		MaxRSS:            int64(r.MaxRSS),
		MaxRSSFor:         r.MaxRSSFor,
		MaxAge:            r.MaxAge,
	}
}

func accessLogFormat(cfg config.Config) string {
	if cfg.Log.Access == "off" {
		return httpserve.AccessLogOff
	}
	return cfg.Log.Access
}
