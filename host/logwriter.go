package host

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// maxLine bounds a buffered guest output line; longer lines are split.
const maxLine = 16 << 10

// lineLogger turns a guest's stdout or stderr into one slog record per line,
// tagged with the plugin and the stream.
type lineLogger struct {
	log    *slog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

func newLineLogger(log *slog.Logger, stream string) *lineLogger {
	return &lineLogger{log: log, stream: stream}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLine {
				l.emit(l.buf)
				l.buf = l.buf[:0]
			}
			return len(p), nil
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLogger) emit(line []byte) {
	l.log.LogAttrs(context.Background(), slog.LevelInfo, string(bytes.TrimRight(line, "\r")),
		slog.String("source", "guest"), slog.String("stream", l.stream))
}
