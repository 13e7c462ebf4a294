package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// serve --log-level debug with the log file in the plugin's own directory:
// each write to the log is an event in the watched directory, and logging
// it wrote to the log again, without end. The watcher logs the plugin's
// own events (a roll still follows a write) and none of the log file's.
func TestDebugLogBesideThePlugin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	logFile := filepath.Join(dir, "wasmcluster.log")
	a, b := versionWAT(t, "A"), versionWAT(t, "B")
	if err := os.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(testkit.SocketDir(t), "c.sock")
	testkit.StartLogFile(t, serveCmd(t, nil, "--log-file", logFile, "--log-level", "debug", path, "--listen", "127.0.0.1:0",
		"--workers", "1", "--control", sock, "--admin", "off"), logFile)
	replaceFile(t, path, b, 1)
	waitRolled(t, sock, sha(b), 1, 30*time.Second)

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var own, plugin int
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.Contains(line, `"msg":"plugin directory event"`) {
			continue
		}
		if strings.Contains(line, "wasmcluster.log") {
			own++
		}
		if strings.Contains(line, `plugin.wasm\"`) {
			plugin++
		}
	}
	t.Logf("%d bytes of log; %d directory events logged for the plugin, %d for the log file", len(data), plugin, own)
	if own != 0 || plugin == 0 {
		t.Errorf("directory events logged: %d for the log file (want none), %d for the plugin (want some)", own, plugin)
	}
}
