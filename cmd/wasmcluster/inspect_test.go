package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins/inspect"
)

// inspect on a WAT guest importing a mix: each import in its group, the
// memory cap from the configuration, and each capability's grant, with
// env names but never values.
func TestInspectMix(t *testing.T) {
	wasm := wat(t, "capmix")
	dir := t.TempDir()
	flags := []string{"--plugin-env", "SITE_NAME=secret-value-41c", "--plugin-mounts", dir + ":/t",
		"--plugin-memory-limit-pages", "16"}
	r := runBin(t, nil, append([]string{"inspect", wasm}, flags...)...)
	if r.code != 0 {
		t.Fatalf("inspect: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"  http_handler (1):\n    set_status_code (i32)\n",
		"  wasmcluster kv (1):\n    kv_get (i32, i32, i32, i32) -> i64\n",
		"  wasmcluster outbound (1):\n    outbound_open (i32, i32) -> i32\n",
		"  wasmcluster common (1):\n    last_error (i32, i32) -> i32\n",
		"  wasmcluster unknown (1) — unknown to this host: refused at load:\n    teleport ()\n",
		"  wasi (2):\n    environ_get (i32, i32) -> i32\n    path_open ",
		"  env (1):\n    abort (i32, i32, i32, i32)\n",
		"exports (2):\n  handle_request () -> i64\n  handle_response (i32, i32)\n",
		"memory (exported): min 2 pages (128 KiB), max 32 pages, cap 16 pages (1 MiB)",
		"env       imported; granted by plugin.env (variables: SITE_NAME)",
		"files     imported; granted by plugin.mounts (mounts: " + dir + ":/t)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "secret-value-41c") {
		t.Errorf("inspect shows an env value:\n%s", r.stdout)
	}

	r = runBin(t, nil, append([]string{"inspect", "--json", wasm}, flags...)...)
	var rep inspect.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("inspect --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	caps := map[string]inspect.Capability{}
	for _, c := range rep.Capabilities {
		caps[c.Name] = c
	}
	if rep.Size != 351 || len(rep.Imports.Extension[inspect.GroupKV]) != 1 || len(rep.Imports.Extension[inspect.GroupUnknown]) != 1 ||
		!caps["env"].Granted || !caps["files"].Granted || !caps["kv"].Uses || !caps["outbound"].Uses ||
		len(rep.Memories) != 1 || rep.Memories[0].CapPages != 16 {
		t.Errorf("inspect --json: %+v", rep)
	}
}

// inspect on a Go guest, as a module and as a package directory built the
// way serve builds one; without grants, env, files and outbound are not
// granted, while the shared store is (the embedded one is the default).
func TestInspectGo(t *testing.T) {
	for _, plugin := range []string{grantsGuest(t), filepath.Join("testdata", "grants")} {
		r := runBin(t, nil, "inspect", "--json", plugin)
		var rep inspect.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("inspect %s: exit %d, %v\n%s", plugin, r.code, err, r.stderr)
		}
		names := func(fs []inspect.Func) []string {
			var out []string
			for _, f := range fs {
				out = append(out, f.Name)
			}
			return out
		}
		if !slices.Contains(names(rep.Imports.HTTPHandler), "get_uri") || !slices.Contains(names(rep.Exports), "handle_request") ||
			!slices.Contains(names(rep.Imports.WASI), "environ_get") || len(rep.Imports.Extension) != 0 {
			t.Errorf("inspect %s: %+v", plugin, rep)
		}
		for _, c := range rep.Capabilities {
			if want := c.Name == "kv"; c.Granted != want {
				t.Errorf("inspect %s without grants: %s granted %v, want %v", plugin, c.Name, c.Granted, want)
			}
		}
	}
}

// A file that is not wasm: exit 1 and say so.
func TestInspectNotWasm(t *testing.T) {
	r := runBin(t, nil, "inspect", testkit.TempFile(t, "x.wasm", []byte("#!/bin/sh\necho not wasm\n")))
	if r.code != 1 || !strings.Contains(r.stderr, "not a WebAssembly module") {
		t.Errorf("inspect of a shell script: exit %d\n%s", r.code, r.stderr)
	}
}
