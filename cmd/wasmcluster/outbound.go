package main

import (
	"log/slog"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/outbound"
)

// outboundGrant maps [outbound] onto the host's grant, warning once when
// "*" allows every target.
func outboundGrant(cfg config.Config, log *slog.Logger) host.OutboundGrant {
	o := cfg.Outbound
	if p, err := outbound.Parse(o.Allow); err == nil && p.AllowsAll() {
		log.Warn(`outbound.allow has "*": plugins may call any HTTP target reachable from this machine (link-local and metadata addresses excepted); use it for development only`)
	}
	return host.OutboundGrant{
		Allow:           o.Allow,
		Timeout:         o.Timeout,
		MaxResponseBody: int64(o.MaxResponseBody),
		MaxConcurrent:   o.MaxConcurrent,
	}
}
