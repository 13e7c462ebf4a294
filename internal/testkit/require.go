package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// debianPackage names the Debian package that installs each tool the tests
// use, so a skip says what to install (.ci/run installs them).
var debianPackage = map[string]string{
	"wat2wasm":                "wabt",
	"wrk":                     "wrk",
	"tmux":                    "tmux",
	"systemd-analyze":         "systemd",
	"systemd-socket-activate": "systemd",
	"go":                      "golang-go",
	"redis-server":            "redis-server",
	"clang":                   "clang lld wasi-libc libclang-rt-14-dev-wasm32", // CWasm's whole toolchain
	"wasm-ld":                 "lld",
	"node":                    "nodejs",
	"npm":                     "npm",
	"/usr/bin/cargo":          "cargo", // Debian's, by path: rustup's has no wasm target
}

// CI reports whether the tests run under CI (CI=true), where every tool
// must be installed and a missing one is a failure, not a skip.
func CI() bool { return os.Getenv("CI") == "true" }

// Require returns the path of tool. When it is missing, the test is skipped
// with a message naming the Debian package to install, or fails under
// CI=true: a developer without the tool still runs the rest, while CI never
// passes by skipping.
func Require(tb testing.TB, tool string) string {
	tb.Helper()
	path, msg := lookTool(tool)
	if path == "" {
		missing(tb, msg)
	}
	return path
}

// missing skips the test because of what msg says is not installed, or
// fails it under CI=true.
func missing(tb testing.TB, msg string) {
	tb.Helper()
	if CI() {
		tb.Fatal(msg + "; CI=true, so not skipping")
	}
	tb.Skip(msg)
}

// lookTool returns tool's path, or "" and why it is missing.
func lookTool(tool string) (string, string) {
	path, err := exec.LookPath(tool)
	if err == nil {
		return path, ""
	}
	pkg, ok := debianPackage[tool]
	if !ok {
		pkg = tool
	}
	noun := "package"
	if strings.Contains(pkg, " ") {
		noun = "packages"
	}
	return "", fmt.Sprintf("%s not found (install Debian %s %s): %v", tool, noun, pkg, err)
}
