package testkit

import (
	"strings"
	"testing"
)

func TestRequireFound(t *testing.T) {
	if path := Require(t, "sh"); path == "" {
		t.Fatal("Require(sh) returned no path")
	}
}

// A missing tool skips the test, naming the Debian package, except under
// CI=true, where it fails the test.
func TestRequireMissing(t *testing.T) {
	if childMode() == "require" {
		Require(t, "wat2wasm")
		return
	}
	noTools := "PATH=" + t.TempDir()
	out, passed := runChild(t, "require", noTools, "CI=")
	wantChild(t, out, passed, true, "--- SKIP", "wat2wasm not found (install Debian package wabt)")
	out, passed = runChild(t, "require", noTools, "CI=true")
	wantChild(t, out, passed, false, "--- FAIL", "wat2wasm not found (install Debian package wabt)", "CI=true, so not skipping")
	// Only "true" means CI: the policy is the same in every package.
	out, passed = runChild(t, "require", noTools, "CI=1")
	wantChild(t, out, passed, true, "--- SKIP")
}

func TestLookToolNamesPackage(t *testing.T) {
	for tool, pkg := range map[string]string{
		"wat2wasm":             "package wabt",
		"systemd-analyze":      "package systemd",
		"testkit-no-such-tool": "package testkit-no-such-tool",
		"clang":                "packages clang lld wasi-libc libclang-rt-14-dev-wasm32",
	} {
		t.Setenv("PATH", t.TempDir())
		path, msg := lookTool(tool)
		if path != "" || !strings.Contains(msg, "install Debian "+pkg+")") {
			t.Errorf("lookTool(%s) = %q, %q; want no path and %s", tool, path, msg, pkg)
		}
	}
}
