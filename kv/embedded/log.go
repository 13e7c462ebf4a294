package embedded

import (
	"context"
	"fmt"
	"log/slog"
)

// slogger is the NATS server's logger on log/slog. Notices are Debug: the
// server is an implementation detail of wasmcluster, whose own log says
// where the store lives. Fatalf only logs: the server must never exit the
// process that embeds it.
type slogger struct{ l *slog.Logger }

func (s slogger) log(level slog.Level, format string, v []any) {
	if s.l.Enabled(context.Background(), level) {
		s.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (s slogger) Noticef(format string, v ...any) { s.log(slog.LevelDebug, format, v) }
func (s slogger) Warnf(format string, v ...any)   { s.log(slog.LevelWarn, format, v) }
func (s slogger) Fatalf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s slogger) Errorf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s slogger) Debugf(format string, v ...any)  { s.log(slog.LevelDebug-4, format, v) }
func (s slogger) Tracef(format string, v ...any)  { s.log(slog.LevelDebug-8, format, v) }
