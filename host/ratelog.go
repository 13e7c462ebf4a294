package host

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logLimiter lets one record per key through per interval and counts the
// rest; an interval that suppressed records ends with one summary record
// saying how many, so a burst of failures costs two lines per key per
// interval instead of one per failure, and a short burst is still told
// in full.
type logLimiter struct {
	log      *slog.Logger
	interval time.Duration

	mu         sync.Mutex
	suppressed map[string]int // per key with an interval running: records dropped in it
}

func newLogLimiter(log *slog.Logger, interval time.Duration) *logLimiter {
	return &logLimiter{log: log, interval: interval, suppressed: make(map[string]int)}
}

// warn logs msg at WARN unless key already logged in the running interval.
func (l *logLimiter) warn(key, msg string, attrs ...slog.Attr) {
	l.mu.Lock()
	if n, running := l.suppressed[key]; running {
		l.suppressed[key] = n + 1
		l.mu.Unlock()
		return
	}
	l.suppressed[key] = 0
	l.mu.Unlock()
	time.AfterFunc(l.interval, func() { l.end(key, msg) })
	l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// end closes key's interval, with a summary if it suppressed records.
func (l *logLimiter) end(key, msg string) {
	l.mu.Lock()
	n := l.suppressed[key]
	delete(l.suppressed, key)
	l.mu.Unlock()
	if n > 0 {
		l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, slog.String("cause", key),
			slog.Int("suppressed", n), slog.Duration("interval", l.interval))
	}
}
