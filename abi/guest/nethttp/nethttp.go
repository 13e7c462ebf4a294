package nethttp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

// Handle registers h as the plugin's request handler. Call it from init.
func Handle(h http.Handler) { guest.Handle(&adapter{h: h}) }

// Next passes the request on to the plugin's next handler (wasmcluster's
// --upstream, or a 404) once the http.Handler returns. Headers set on the
// ResponseWriter before are added to next's response. Use it in a router to
// make the plugin a middleware for some paths:
//
//	mux.Handle("/static/", nethttp.Next)
var Next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	nextRequested = true
})

// nextRequested is set by Next during the current request. One instance
// serves one request at a time, so a package variable is enough and works
// however the ResponseWriter was wrapped.
var nextRequested bool

type adapter struct {
	h     http.Handler
	req   http.Request
	hdr   http.Header
	names []string // reused across requests
	vals  []string // backing array of every header's values, reused
	body  body
	rw    responseWriter
}

// body adapts the host's streaming body to an io.ReadCloser.
type body struct{ *guest.Body }

func (body) Close() error { return nil }

func (a *adapter) ServeHTTP(w guest.ResponseWriter, r *guest.Request) {
	nextRequested = false
	req, err := a.request(r)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.WriteString("bad request: " + err.Error() + "\n")
		return
	}
	a.rw.reset(w)
	a.h.ServeHTTP(&a.rw, req)
	if nextRequested && !a.rw.wroteHeader {
		a.rw.sendHeader() // headers only; status and body come from next
		r.Next()
		return
	}
	a.rw.finish()
}

// request fills the reused *http.Request from the host's request.
func (a *adapter) request(r *guest.Request) (*http.Request, error) {
	uri := r.URI()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	if a.hdr == nil {
		a.hdr = make(http.Header)
	}
	clear(a.hdr)
	h := r.Header()
	a.names = h.AppendNames(a.names[:0])
	a.vals = a.vals[:0]
	for _, name := range a.names {
		start := len(a.vals)
		a.vals = h.AppendValues(a.vals, name)
		// The full slice expression keeps a handler's append from
		// overwriting the next header's values.
		a.hdr[canonicalKey(name)] = a.vals[start:len(a.vals):len(a.vals)]
	}
	proto := r.Proto()
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		major, minor = 1, 1
	}
	host := a.hdr.Get("Host")
	delete(a.hdr, "Host") // as net/http's server does: it lives in Request.Host
	a.body = body{r.Body()}
	a.req = http.Request{
		Method:        r.Method(),
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        a.hdr,
		Body:          a.body,
		ContentLength: contentLength(a.hdr),
		Host:          host,
		RemoteAddr:    r.RemoteAddr(),
		RequestURI:    uri,
	}
	if u.Host == "" {
		u.Host = host
	}
	return &a.req, nil
}

func contentLength(h http.Header) int64 {
	if v := h.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n
		}
	}
	if h.Get("Transfer-Encoding") != "" {
		return -1
	}
	return 0
}

// responseWriter is the http.ResponseWriter handed to the handler.
type responseWriter struct {
	w           guest.ResponseWriter
	hdr         http.Header
	status      int
	wroteHeader bool
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func (rw *responseWriter) reset(w guest.ResponseWriter) {
	if rw.hdr == nil {
		rw.hdr = make(http.Header)
	}
	clear(rw.hdr)
	rw.w, rw.status, rw.wroteHeader = w, 0, false
}

func (rw *responseWriter) Header() http.Header { return rw.hdr }

// WriteHeader sends the status and the headers set so far to the host.
func (rw *responseWriter) WriteHeader(code int) {
	if rw.wroteHeader || code < 100 || code > 999 {
		return
	}
	if code < 200 { // 1xx informational responses are not supported
		return
	}
	rw.wroteHeader = true
	rw.status = code
	rw.sendHeader()
	if code != http.StatusOK {
		rw.w.WriteHeader(code)
	}
}

// sendHeader copies the header map to the host, trailers aside.
func (rw *responseWriter) sendHeader() {
	h := rw.w.Header()
	for k, vs := range rw.hdr {
		if strings.HasPrefix(k, http.TrailerPrefix) || len(vs) == 0 {
			continue
		}
		h.Set(k, vs[0])
		for _, v := range vs[1:] {
			h.Add(k, v)
		}
	}
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		if _, ok := rw.hdr["Content-Type"]; !ok && len(p) > 0 {
			rw.hdr.Set("Content-Type", http.DetectContentType(p))
		}
		rw.WriteHeader(http.StatusOK)
	}
	return rw.w.Write(p)
}

// WriteString lets io.WriteString skip a copy.
func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.wroteHeader {
		return rw.Write([]byte(s))
	}
	return rw.w.WriteString(s)
}

// Flush is a no-op: bodies already go to the host as they are written.
func (rw *responseWriter) Flush() {}

// finish sends the headers of a response without body and the trailers.
func (rw *responseWriter) finish() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	var tr guest.Header
	enabled := false
	for k, vs := range rw.hdr {
		name, ok := strings.CutPrefix(k, http.TrailerPrefix)
		if !ok || len(vs) == 0 {
			continue
		}
		if !enabled {
			guest.EnableFeatures(guest.FeatureTrailers)
			tr, enabled = rw.w.Trailer(), true
		}
		tr.Set(name, vs[0])
		for _, v := range vs[1:] {
			tr.Add(name, v)
		}
	}
}

// commonKeys maps the lower-case names hosts report to canonical keys
// without allocating, for the headers most requests carry.
var commonKeys = map[string]string{
	"accept":            "Accept",
	"accept-encoding":   "Accept-Encoding",
	"accept-language":   "Accept-Language",
	"authorization":     "Authorization",
	"cache-control":     "Cache-Control",
	"connection":        "Connection",
	"content-length":    "Content-Length",
	"content-type":      "Content-Type",
	"cookie":            "Cookie",
	"host":              "Host",
	"if-modified-since": "If-Modified-Since",
	"if-none-match":     "If-None-Match",
	"origin":            "Origin",
	"referer":           "Referer",
	"transfer-encoding": "Transfer-Encoding",
	"user-agent":        "User-Agent",
	"x-forwarded-for":   "X-Forwarded-For",
	"x-forwarded-proto": "X-Forwarded-Proto",
	"x-request-id":      "X-Request-Id",
}

func canonicalKey(name string) string {
	if k, ok := commonKeys[name]; ok {
		return k
	}
	return http.CanonicalHeaderKey(name)
}
