package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServeLogFile starts serve with --log-file and waits for its
// "serving" record in that file; it returns the base URL and the process.
func startServeLogFile(t *testing.T, logFile string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"serve", "--log-format", "json", "--log-file", logFile}, args...)...)
	cmd.Env = testEnv()
	groupAndWaitDelay(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s")
		}
		killGroup(cmd)
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logFile)
		for line := range strings.SplitSeq(string(b), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				return "http://" + rec.Addr, cmd
			}
		}
		select {
		case <-exited:
			t.Fatalf("serve exited: %s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("no serving record in the log file within 30 s")
	return "", nil
}

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
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, l := range accessLines(t, path) {
			if strings.Contains(l, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("no access line with %q in %s:\n%s", want, path, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// log.access=combined with --log-file: one line per request in the file,
// and SIGUSR1 after the file was moved away starts a new one (logrotate).
func TestAccessLogFileReopen(t *testing.T) {
	plugin := wat(t, "hello")
	dir := t.TempDir()
	logFile := filepath.Join(dir, "wasmcluster.log")
	url, cmd := startServeLogFile(t, logFile, plugin, "--listen", "127.0.0.1:0", "--workers", "2",
		"--control", "-", "--admin", "off", "--log-access", "combined")
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
	cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(logFile); err == nil {
			break
		}
		// The reopen may race the request below: keep asking until the
		// new file exists.
		if time.Now().After(deadline) {
			t.Fatal("SIGUSR1 did not create a new log file")
		}
		time.Sleep(20 * time.Millisecond)
		resp, err := c.Get(url + "/wait")
		if err == nil {
			resp.Body.Close()
		}
	}
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
