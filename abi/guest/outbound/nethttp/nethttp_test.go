package nethttp_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/outbound"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// A Go plugin uses http.Client with nethttp.Transport unchanged: method,
// body, headers and status pass through the host's outbound calls, and a
// refused target is an error naming outbound.allow.
func TestClientInPlugin(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/x-test")
		w.Header().Add("X-Multi", "1")
		w.Header().Add("X-Multi", "2")
		w.WriteHeader(201)
		io.WriteString(w, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
	}))
	defer up.Close()
	policy, err := outbound.Parse([]string{up.URL})
	if err != nil {
		t.Fatal(err)
	}
	oc := outbound.New(outbound.Options{Policy: policy})
	defer oc.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := host.New(ctx, testkit.GoWasm(t, "testdata/client"), host.Config{
		PoolSize: 1, GuestConfig: []byte(up.URL + "/in"), Outbound: oc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	srv := httptest.NewServer(p)
	defer srv.Close()

	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/", 200, "status=201 ct=text/x-test x=1,2 body=POST text/plain ping"},
		{"/?url=http://127.0.0.1:1/x", 502, `Get "http://127.0.0.1:1/x": outbound: http://127.0.0.1:1 is not in outbound.allow`},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || string(b) != tt.want {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, b, tt.status, tt.want)
		}
	}
}
