package kv_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvopen"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// serveSDK serves testdata/kvsdk over an embedded store (max_value 16 KiB).
func serveSDK(t *testing.T) (string, *host.Plugin) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := kv.Config{Dir: t.TempDir(), MaxValue: 16 << 10}.WithDefaults()
	srv, err := embedded.Start(ctx, embedded.Options{Dir: cfg.Dir, NoListen: true})
	if err != nil {
		t.Fatal(err)
	}
	store, err := kvopen.Open(ctx, srv.InProcessConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(); srv.Shutdown() })
	p, err := host.New(ctx, testkit.GoWasm(t, "testdata/kvsdk", "-ldflags=-s -w"), host.Config{
		PoolSize: 1, KV: store, KVMaxValue: 16 << 10, CacheDir: filepath.Join(testkit.Dir(t), "wazero"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	hs := httptest.NewServer(p)
	t.Cleanup(hs.Close)
	return hs.URL, p
}

func TestSDK(t *testing.T) {
	base, p := serveSDK(t)
	call := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		path string
		code int
		want string // body prefix
	}{
		{"/set?k=a&v=hello", 200, "true"},
		{"/get?k=a", 200, "hello"},
		{"/get?k=nope", 409, "kv: not found: kv_get: key \"nope\""},
		{"/incr?k=n&d=5", 200, "5"},
		{"/incr?k=n&d=-7", 200, "-2"},
		{"/incr?k=a&d=1", 409, "kv: not a number: kv_incr: "},
		{"/cas?k=c", 200, "2"},
		{"/setbig?k=big&n=10000", 200, "ok"},
		{"/setbig?k=big2&n=16385", 409, "kv: too large: kv_set: value of 16385 bytes is over kv.max_value (16384)"},
		{"/set?k=&v=x", 409, "kv: invalid argument: kv_set: empty key"},
		{"/del?k=a", 200, "ok"},
		{"/get?k=a", 409, "kv: not found"},
		{"/set?k=t&v=x&ttl=1", 200, "true"},
	}
	for _, tt := range tests {
		if code, body := call(tt.path); code != tt.code || !strings.HasPrefix(body, tt.want) {
			t.Errorf("GET %s: %d %q, want %d %q…", tt.path, code, body, tt.code, tt.want)
		}
	}
	// A value larger than the SDK's 4 KiB buffer takes two kv_get calls
	// but one store call.
	gets := p.Stats().KV["get"].Results["ok"]
	if code, body := call("/getlen?k=big"); code != 200 || body != "10000" {
		t.Errorf("getlen: %d %q", code, body)
	}
	if n := p.Stats().KV["get"].Results["ok"] - gets; n != 1 {
		t.Errorf("a 10000-byte Get made %d store calls, want 1", n)
	}
	// Keys pages past abi.KVKeysPageMax (256) behind the iterator.
	if code, body := call("/fill?p=p/&n=300"); code != 200 {
		t.Fatalf("fill: %d %s", code, body)
	}
	code, body := call("/keys?p=p/")
	keys := strings.Split(body, ",")
	if code != 200 || len(keys) != 300 || keys[0] != "p/0000" || keys[299] != "p/0299" {
		t.Errorf("keys: %d, %d keys (%.40s…)", code, len(keys), body)
	}
	if s := p.Stats().KV["keys"].Results["ok"]; s != 2 {
		t.Errorf("300 keys took %d kv_keys store calls, want 2 pages", s)
	}
}
