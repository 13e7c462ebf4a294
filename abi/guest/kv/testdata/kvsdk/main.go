// Command kvsdk exercises package kv's API for the package's tests: one
// path per feature, answering what the SDK returned.
package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/abi/guest/kv"
)

func init() { guest.HandleFunc(serve) }

func main() {}

func serve(w guest.ResponseWriter, r *guest.Request) {
	q, _ := url.ParseQuery(r.Query())
	k := q.Get("k")
	switch r.Path() {
	case "/set":
		ttl, _ := time.ParseDuration(q.Get("ttl") + "ms")
		rev, err := kv.Set(k, []byte(q.Get("v")), kv.TTL(ttl))
		reply(w, fmt.Sprint(rev > 0), err)
	case "/get":
		e, err := kv.Get(k)
		reply(w, string(e.Value), err)
	case "/getlen":
		e, err := kv.Get(k)
		reply(w, strconv.Itoa(len(e.Value)), err)
	case "/setbig":
		n, _ := strconv.Atoi(q.Get("n"))
		_, err := kv.Set(k, []byte(strings.Repeat("x", n)))
		reply(w, "ok", err)
	case "/del":
		reply(w, "ok", kv.Delete(k))
	case "/incr":
		d, _ := strconv.ParseInt(q.Get("d"), 10, 64)
		n, err := kv.Incr(k, d)
		reply(w, strconv.FormatInt(n, 10), err)
	case "/cas":
		v, err := casFlow(k)
		reply(w, v, err)
	case "/fill":
		n, _ := strconv.Atoi(q.Get("n"))
		for i := range n {
			if _, err := kv.Set(fmt.Sprintf("%s%04d", q.Get("p"), i), nil); err != nil {
				reply(w, "", err)
				return
			}
		}
		reply(w, "ok", nil)
	case "/keys":
		var keys []string
		for key, err := range kv.Keys(q.Get("p")) {
			if err != nil {
				reply(w, "", err)
				return
			}
			keys = append(keys, key)
		}
		reply(w, strings.Join(keys, ","), nil)
	}
}

// casFlow: Create, Create again (conflict), CompareAndSwap on a stale and
// then on the current revision.
func casFlow(k string) (string, error) {
	rev, err := kv.Create(k, []byte("1"))
	if err != nil {
		return "", err
	}
	if _, err := kv.Create(k, []byte("again")); !errors.Is(err, kv.ErrConflict) {
		return "", fmt.Errorf("second Create: %v, want ErrConflict", err)
	}
	if _, err := kv.CompareAndSwap(k, []byte("stale"), rev+100); !errors.Is(err, kv.ErrConflict) {
		return "", fmt.Errorf("stale CompareAndSwap: %v, want ErrConflict", err)
	}
	if _, err := kv.CompareAndSwap(k, []byte("2"), rev); err != nil {
		return "", err
	}
	e, err := kv.Get(k)
	return string(e.Value), err
}

// reply writes the result, or the error's sentinel and message.
func reply(w guest.ResponseWriter, body string, err error) {
	if err != nil {
		w.WriteHeader(409)
		for _, s := range []error{kv.ErrNotFound, kv.ErrConflict, kv.ErrTooLarge, kv.ErrInvalid, kv.ErrNotNumber, kv.ErrUnavailable, kv.ErrTimeout} {
			if errors.Is(err, s) {
				w.WriteString(s.Error() + ": ")
			}
		}
		w.WriteString(err.Error())
		return
	}
	w.WriteString(body)
}
