// Command ratelimit is middleware that allows N requests per client address
// per window, counted in wasmcluster's shared store so the limit holds
// across every worker (and every instance sharing a NATS or Redis store).
// Beyond it, it answers 429 with Retry-After; otherwise it calls next.
//
// The plugin config is `N/window`, window a Go duration: `100/1m` allows
// 100 requests a minute per client. Windows are fixed and aligned to the
// clock (a minute window resets on the minute), so Retry-After is exact.
//
// When the store fails, requests pass (and the failure is logged): the
// limiter protects capacity, and refusing every request while the store is
// down would be the outage it is there to prevent.
package main

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/abi/guest/kv"
)

var (
	limit     int64
	window    time.Duration
	configErr error
)

func init() {
	limit, window, configErr = parseConfig(strings.TrimSpace(string(guest.Config())))
	guest.HandleFunc(serve)
}

func main() {}

// parseConfig reads `N/window`.
func parseConfig(s string) (int64, time.Duration, error) {
	ns, ws, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("ratelimit: plugin config " + strconv.Quote(s) + " is not N/window (e.g. 100/1m)")
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || n < 1 {
		return 0, 0, errors.New("ratelimit: plugin config " + strconv.Quote(s) + ": N must be a positive integer")
	}
	w, err := time.ParseDuration(ws)
	if err != nil || w < time.Second {
		return 0, 0, errors.New("ratelimit: plugin config " + strconv.Quote(s) + ": window must be a duration of at least 1s (e.g. 1m)")
	}
	return n, w, nil
}

func serve(w guest.ResponseWriter, r *guest.Request) {
	if configErr != nil {
		guest.Log(guest.LevelError, configErr.Error())
		w.WriteHeader(500)
		w.WriteString("rate limit is misconfigured\n")
		return
	}
	now := time.Now()
	slot := now.UnixNano() / int64(window)
	key := "ratelimit:" + client(r.RemoteAddr()) + ":" + strconv.FormatInt(slot, 10)
	n, err := kv.Incr(key, 1, kv.TTL(window))
	if err != nil {
		guest.Log(guest.LevelWarn, "ratelimit: store failed, letting the request through: "+err.Error())
		r.Next()
		return
	}
	if n > limit {
		end := time.Unix(0, (slot+1)*int64(window))
		retry := int64((end.Sub(now) + time.Second - 1) / time.Second)
		w.Header().Set("retry-after", strconv.FormatInt(max(retry, 1), 10))
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.WriteHeader(429)
		w.WriteString("too many requests\n")
		return
	}
	r.Next()
}

// client is the address part of host:port (IPv6 without its brackets).
func client(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		addr = addr[:i]
	}
	return strings.Trim(addr, "[]")
}
