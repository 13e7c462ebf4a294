// Command sessions keeps a cookie session in wasmcluster's shared store:
// each client gets a random session id in cookie `sid`, and every request
// answers `visits: N` with N counting that session's requests, whichever
// worker (or, with a shared NATS or Redis store, whichever instance)
// serves it. A session expires 30 minutes after its last request.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/abi/guest/kv"
)

const (
	cookieName = "sid"
	idLen      = 32 // hex characters: 128 random bits
	ttl        = 30 * time.Minute
	attempts   = 8 // compare-and-swap retries under concurrent requests of one session
)

func init() {
	guest.HandleFunc(serve)
}

func main() {}

func serve(w guest.ResponseWriter, r *guest.Request) {
	sid := sessionID(r.Header().Get("cookie"))
	if sid == "" {
		sid = newID()
	}
	n, err := visit("session:" + sid)
	if err != nil {
		guest.Log(guest.LevelError, "sessions: "+err.Error())
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.WriteHeader(503)
		w.WriteString("session store unavailable\n")
		return
	}
	w.Header().Set("set-cookie", cookieName+"="+sid+"; Path=/; Max-Age="+
		strconv.Itoa(int(ttl.Seconds()))+"; HttpOnly; SameSite=Lax")
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.Header().Set("cache-control", "no-store")
	w.WriteString("visits: " + strconv.FormatInt(n, 10) + "\n")
}

// visit counts one request of the session at key and returns the count.
// Get + CompareAndSwap (not Incr) so every visit renews the 30-minute TTL.
func visit(key string) (int64, error) {
	for range attempts {
		e, err := kv.Get(key)
		switch {
		case errors.Is(err, kv.ErrNotFound):
			_, err = kv.Create(key, []byte("1"), kv.TTL(ttl))
			if err == nil {
				return 1, nil
			}
		case err == nil:
			n, _ := strconv.ParseInt(string(e.Value), 10, 64) // a damaged value restarts the count
			n++
			_, err = kv.CompareAndSwap(key, []byte(strconv.FormatInt(n, 10)), e.Revision, kv.TTL(ttl))
			if err == nil {
				return n, nil
			}
		}
		if !errors.Is(err, kv.ErrConflict) {
			return 0, err
		}
	}
	return 0, errors.New("session " + key + ": too many concurrent updates")
}

// sessionID returns the well-formed sid from a Cookie header, or "".
func sessionID(cookies string) string {
	for part := range strings.SplitSeq(cookies, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && name == cookieName && validID(val) {
			return val
		}
	}
	return ""
}

func validID(s string) bool {
	if len(s) != idLen {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func newID() string {
	var b [idLen / 2]byte
	rand.Read(b[:]) // never fails (Go 1.24+); WASI random_get
	return hex.EncodeToString(b[:])
}
