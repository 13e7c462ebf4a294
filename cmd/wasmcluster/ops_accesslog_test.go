package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// accessLines returns the access log lines relayed into a JSON log file
// (a text access line becomes a record whose message is the line).
func accessLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && strings.Contains(rec.Msg, `" 200 `) {
			out = append(out, rec.Msg)
		}
	}
	return out
}

func waitAccess(t *testing.T, path, want string) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, func() error {
		for _, l := range accessLines(t, path) {
			if strings.Contains(l, want) {
				return nil
			}
		}
		b, _ := os.ReadFile(path)
		return fmt.Errorf("no access line with %q in %s:\n%s", want, path, b)
	})
}

// log.access=combined with --log-file: one line per request in the file,
// and SIGUSR1 after the file was moved away starts a new one (logrotate).
func TestAccessLogFileReopen(t *testing.T) {
	plugin := wat(t, "hello")
	dir := t.TempDir()
	logFile := filepath.Join(dir, "wasmcluster.log")
	s := testkit.StartLogFile(t, serveCmd(t, nil, "--log-file", logFile, plugin, "--listen", "127.0.0.1:0", "--workers", "2",
		"--control", "-", "--admin", "off", "--log-access", "combined"), logFile)
	url := s.URL()
	c := &http.Client{}
	req, _ := http.NewRequest("GET", url+"/first?x=1", nil)
	req.Header.Set("User-Agent", "ops-test/1")
	req.Header.Set("Referer", "http://ref.example/")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitAccess(t, logFile, `"GET /first?x=1 HTTP/1.1" 200 15 "http://ref.example/" "ops-test/1"`)
	if l := accessLines(t, logFile)[0]; !strings.HasPrefix(l, "127.0.0.1 - - [") {
		t.Errorf("access line %q: want the common log format's host - user [time]", l)
	}

	rotated := logFile + ".1"
	if err := os.Rename(logFile, rotated); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGUSR1)
	testkit.WaitFor(t, 10*time.Second, "SIGUSR1 to create a new log file", func() bool {
		if _, err := os.Stat(logFile); err == nil {
			return true
		}
		// The reopen may race the request below: keep asking until the
		// new file exists.
		resp, err := c.Get(url + "/wait")
		if err == nil {
			resp.Body.Close()
		}
		return false
	})
	resp, err = c.Get(url + "/second")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitAccess(t, logFile, `"GET /second HTTP/1.1" 200`)
	for _, l := range accessLines(t, rotated) {
		if strings.Contains(l, "/second") {
			t.Errorf("request after the reopen logged in the rotated file: %q", l)
		}
	}
}
