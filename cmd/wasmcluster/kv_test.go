package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/config"
	"github.com/wasmcluster/wasmcluster/workers/control"
)

func TestKVConfigMapping(t *testing.T) {
	c := config.Default()
	c.KV.URL = "off"
	if k, err := kvConfig(c); err != nil || k != nil {
		t.Errorf("kv.url off: %+v, %v; want no store", k, err)
	}
	c = config.Default()
	c.KV.URL, c.KV.TokenFile = "nats://a:4222", filepath.Join(t.TempDir(), "token")
	if _, err := kvConfig(c); err == nil || !strings.Contains(err.Error(), "kv.token_file") {
		t.Errorf("missing token file: %v", err)
	}
	os.WriteFile(c.KV.TokenFile, []byte("s3cret\n"), 0o600)
	k, err := kvConfig(c)
	if err != nil || k.Token != "s3cret" || k.URL != "nats://a:4222" || k.MaxValue != 1<<20 || k.Bucket != "wasmcluster" {
		t.Errorf("kvConfig = %+v, %v", k, err)
	}
}

func TestPrintKV(t *testing.T) {
	var b strings.Builder
	printKV(&b, &control.KVStatus{Backend: "embedded", Healthy: true, Dir: "/var/lib/wc/kv",
		Ops: map[string]map[string]uint64{"get": {"ok": 3, "not_found": 1}, "incr": {"ok": 2}}})
	want := "kv store: embedded, healthy, data in /var/lib/wc/kv\n  kv get: not_found 1, ok 3\n  kv incr: ok 2\n"
	if b.String() != want {
		t.Errorf("printKV =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printKV(&b, &control.KVStatus{Backend: "redis", Error: "dial tcp: connection refused"})
	if b.String() != "kv store: redis, UNAVAILABLE: dial tcp: connection refused\n" {
		t.Errorf("printKV down = %q", b.String())
	}
}
