package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestStartupSystemd: the printed units name this binary and the plugin by
// absolute path, wire reload and notify, and pass systemd-analyze verify.
func TestStartupSystemd(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "plugin.wasm")
	if err := os.WriteFile(plugin, []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	binary := bin(t)
	r := runBin(t, nil, "startup", "systemd", plugin, "--socket", "--binary", binary, "--dir", dir, "--drain-timeout", "10s")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	svc, err := os.ReadFile(filepath.Join(dir, "wasmcluster.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "ExecStart=" + binary + " serve " + plugin,
		"ExecReload=" + binary + " reload --wait", "TimeoutStopSec=25", "Requires=wasmcluster.socket"} {
		if !strings.Contains(string(svc), want) {
			t.Errorf("service unit lacks %q:\n%s", want, svc)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "wasmcluster.socket")); err != nil {
		t.Fatal(err)
	}
	// Only this part needs systemd-analyze: without it, only it is skipped.
	t.Run("verify", func(t *testing.T) {
		analyze := testkit.Require(t, "systemd-analyze")
		out, err := exec.Command(analyze, "verify", "--man=no",
			filepath.Join(dir, "wasmcluster.service"), filepath.Join(dir, "wasmcluster.socket")).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	if r := runBin(t, nil, "startup", "systemd"); r.code != 2 {
		t.Errorf("startup systemd without a plugin: exit %d, want 2", r.code)
	}
}
