package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
)

// newLogger writes log.format records at log.level and above to w, and makes
// itself the default so stray slog calls end up in the same stream.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel()}
	var h slog.Handler
	if strings.EqualFold(cfg.Log.Format, "json") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	return log
}
