package httpserve

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Access log formats (Options.AccessLog).
const (
	AccessLogOff      = ""
	AccessLogCommon   = "common"   // NCSA common log format
	AccessLogCombined = "combined" // common + referer and user agent
	AccessLogJSON     = "json"     // one slog-compatible JSON record per request
)

// accessLog writes one line per request to w (a worker's stderr, which the
// primary relays into its own log line by line). Each line is written with
// one Write, under a lock, so lines never interleave and a reader gets
// whole lines (a pipe write under PIPE_BUF is atomic).
type accessLog struct {
	format string
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
}

func newAccessLog(format string, w io.Writer) *accessLog {
	if format == "" || format == "off" || w == nil {
		return nil
	}
	return &accessLog{format: format, w: w}
}

func (a *accessLog) log(r *http.Request, code int, size int64, start time.Time, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.buf[:0]
	if a.format == AccessLogJSON {
		b = a.appendJSON(b, r, code, size, start, d)
	} else {
		b = appendCommon(b, r, code, size, start)
		if a.format == AccessLogCombined {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, r.Referer())
			b = append(b, ' ')
			b = strconv.AppendQuote(b, r.UserAgent())
		}
	}
	b = append(b, '\n')
	a.w.Write(b)
	if cap(b) <= 8<<10 {
		a.buf = b
	}
}

// appendCommon appends `host - user [time] "METHOD URI PROTO" code size`.
func appendCommon(b []byte, r *http.Request, code int, size int64, start time.Time) []byte {
	b = append(b, clientHost(r)...)
	b = append(b, " - "...)
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		b = append(b, strings.ReplaceAll(u, " ", "_")...)
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, sanitize(r.Method)...)
	b = append(b, ' ')
	b = append(b, sanitize(r.RequestURI)...)
	b = append(b, ' ')
	b = append(b, r.Proto...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if size == 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, size, 10)
}

func (a *accessLog) appendJSON(b []byte, r *http.Request, code int, size int64, start time.Time, d time.Duration) []byte {
	rec := struct {
		Time      string  `json:"time"`
		Level     string  `json:"level"`
		Msg       string  `json:"msg"`
		Remote    string  `json:"remote"`
		Method    string  `json:"method"`
		URI       string  `json:"uri"`
		Proto     string  `json:"proto"`
		Status    int     `json:"status"`
		Bytes     int64   `json:"bytes"`
		Duration  float64 `json:"duration_seconds"`
		Referer   string  `json:"referer,omitempty"`
		UserAgent string  `json:"user_agent,omitempty"`
	}{start.Format(time.RFC3339Nano), "INFO", "access", clientHost(r), r.Method, r.RequestURI, r.Proto,
		code, size, d.Seconds(), r.Referer(), r.UserAgent()}
	j, err := json.Marshal(rec)
	if err != nil {
		return fmt.Appendf(b, `{"level":"ERROR","msg":"access log: %s"}`, strconv.Quote(err.Error()))
	}
	return append(b, j...)
}

func clientHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || h == "" {
		return "-"
	}
	return h
}

// sanitize keeps a request-controlled field on one line and inside quotes.
func sanitize(s string) string {
	if !strings.ContainsAny(s, "\"\n\r\\ ") {
		return s
	}
	q := strconv.Quote(s)
	return strings.ReplaceAll(q[1:len(q)-1], " ", "%20")
}
