package host_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// splitNames parses a NUL-terminated name list.
func splitNames(t *testing.T, b []byte) []string {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != 0 {
		t.Fatalf("name list %q is not NUL-terminated", b)
	}
	return strings.Split(string(b[:len(b)-1]), "\x00")
}

// checkNames: lowercase, no duplicates, the count header agrees, and want
// (lowercase) are all present.
func checkNames(t *testing.T, rec interface {
	Header() http.Header
}, body []byte, want ...string) {
	t.Helper()
	names := splitNames(t, body)
	if got := rec.Header().Get("X-Count"); got != strconv.Itoa(len(names)) {
		t.Errorf("count %s for %d names %q", got, len(names), names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n != strings.ToLower(n) {
			t.Errorf("header name %q is not lowercase", n)
		}
		if seen[n] {
			t.Errorf("header name %q listed twice", n)
		}
		seen[n] = true
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("header names %q lack %q", names, w)
		}
	}
}

func TestHeaderNames(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Next-One", "1")
		w.Header().Add("X-Next-Two", "a")
		w.Header().Add("X-Next-Two", "b")
		io.WriteString(w, "ignored")
	})
	p := newPlugin(t, wat(t, "headers"), host.Config{Next: next})
	t.Run("request", func(t *testing.T) {
		rec := serve(t, p, get("/", "x-mode", "q", "X-Multi", "1", "X-Multi", "2", "Accept", "*/*"))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d %q", rec.Code, rec.Body.String())
		}
		checkNames(t, rec, rec.Body.Bytes(), "x-mode", "x-multi", "accept")
	})
	t.Run("response", func(t *testing.T) {
		rec := serve(t, p, get("/", "x-mode", "r"))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d %q", rec.Code, rec.Body.String())
		}
		checkNames(t, rec, rec.Body.Bytes(), "x-next-one", "x-next-two")
	})
}

func TestResponseHeaderEdits(t *testing.T) {
	p := newPlugin(t, wat(t, "headers"), host.Config{})
	rec := serve(t, p, get("/", "x-mode", "m"))
	wantResponse(t, rec, http.StatusOK, "m")
	h := rec.Header()
	if got := h.Values("X-M"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("added values %q, want [a b]", got)
	}
	if got := h.Values("X-S"); !slices.Equal(got, []string{"2"}) {
		t.Errorf("set values %q, want [2]", got)
	}
	if _, ok := h["X-Gone"]; ok {
		t.Errorf("removed header still sent: %v", h)
	}
}

// TestRequestBodyRewrite: a body the guest writes replaces the request body
// for next, with a Content-Length that matches, also over the wire.
func TestRequestBodyRewrite(t *testing.T) {
	echo := lengthEcho()
	orig := bytes.Repeat([]byte("original "), 100)
	check := func(t *testing.T, status int, length string, body []byte) {
		t.Helper()
		if status != http.StatusOK || string(body) != "replaced" {
			t.Errorf("next got %d %q, want the replaced body", status, body)
		}
		if length != "8" && length != "-1" {
			t.Errorf("next saw ContentLength %s for an 8-byte body", length)
		}
	}
	t.Run("next", func(t *testing.T) {
		p := newPlugin(t, wat(t, "headers"), host.Config{Next: echo})
		rec := serve(t, p, newReq(http.MethodPost, "/", orig, "x-mode", "w"))
		check(t, rec.Code, rec.Header().Get("X-Got-Length"), rec.Body.Bytes())
	})
	t.Run("upstream", func(t *testing.T) {
		p := newPlugin(t, wat(t, "headers"), host.Config{Upstream: upstream(t, echo)})
		srv, _ := listen(t, "127.0.0.1:0", p)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(orig))
		req.Header.Set("X-Mode", "w")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		check(t, resp.StatusCode, resp.Header.Get("X-Got-Length"), body)
	})
}

// lengthEcho is a next that answers the request body it got, with the
// request's Content-Length in X-Got-Length.
func lengthEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Got-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Write(b)
	})
}
