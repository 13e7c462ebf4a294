package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins/inspect"
)

const mix = `(module
  (import "wasmcluster" "kv_get" (func (param i32 i32 i32 i32) (result i64)))
  (import "wasmcluster" "outbound_open" (func (param i32 i32) (result i32)))
  (import "elsewhere" "thing" (func))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))`

// Each capability's verdict under the grants that decide it.
func TestCapabilities(t *testing.T) {
	wasm := testkit.WAT(t, mix)
	for _, tt := range []struct {
		name   string
		grants inspect.Grants
		want   map[string]string // capability -> verdict
	}{
		{"no keys", inspect.Grants{}, map[string]string{"kv": "refused", "outbound": "refused", "env": "not granted", "files": "not granted"}},
		{"kv off, allow empty", inspect.Grants{HasKV: true, KVURL: "off", HasOutbound: true},
			map[string]string{"kv": "refused", "outbound": "not granted"}},
		{"kv on, allow set", inspect.Grants{HasKV: true, KVURL: "redis://user:pw@127.0.0.1:6379/0", HasOutbound: true,
			OutboundAllow: []string{"https://api.example.com"}, Env: []string{"A"}, Mounts: []string{"/srv:/srv"}},
			map[string]string{"kv": "granted", "outbound": "granted", "env": "granted", "files": "granted"}},
	} {
		rep, err := inspect.Analyze(context.Background(), wasm, tt.grants)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Capabilities {
			got := "not granted"
			switch {
			case c.LoadRefused:
				got = "refused"
			case c.Granted:
				got = "granted"
			}
			if w, ok := tt.want[c.Name]; ok && got != w {
				t.Errorf("%s: %s is %s (%s), want %s", tt.name, c.Name, got, c.Detail, w)
			}
			if strings.Contains(c.Detail, "pw@") {
				t.Errorf("%s: %s shows the URL's password: %s", tt.name, c.Name, c.Detail)
			}
		}
		if len(rep.Imports.Other) != 1 || rep.Imports.Other[0].Module != "elsewhere" {
			t.Errorf("%s: other imports %+v", tt.name, rep.Imports.Other)
		}
		if m := rep.Memories; len(m) != 1 || m[0].HasMax || m[0].CapPages != 0 {
			t.Errorf("%s: memories %+v (no limit, no declared max: no cap)", tt.name, m)
		}
	}
}

func TestNotWasm(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("hello world, not wasm")} {
		if _, err := inspect.Analyze(context.Background(), b, inspect.Grants{}); err != inspect.ErrNotWasm {
			t.Errorf("%q: %v, want ErrNotWasm", b, err)
		}
	}
	if _, err := inspect.Analyze(context.Background(), []byte("\x00asm\x01\x00\x00\x00\xff"), inspect.Grants{}); err == nil {
		t.Error("a broken module: no error")
	}
}
