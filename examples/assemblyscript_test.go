package examples_test

import (
	"strings"
	"testing"
)

func TestHelloAssemblyScript(t *testing.T) {
	forEachTarget(t, "hello-assemblyscript", "", func(t *testing.T, base, _ string) {
		resp, body := do(t, "GET", base+"/", "")
		if resp.StatusCode != 200 || body != "hello from assemblyscript\n" || resp.Header.Get("content-type") != "text/plain; charset=utf-8" {
			t.Fatalf("/: got %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if resp, body = do(t, "GET", base+"/greet", "", "X-Name", "Ada"); resp.StatusCode != 200 || body != "hello, Ada\n" {
			t.Errorf("/greet: got %d %q", resp.StatusCode, body)
		}
		if resp, body = do(t, "GET", base+"/fail", ""); resp.StatusCode != 500 || strings.Contains(body, "always fails") {
			t.Errorf("/fail: got %d %q, want a 500 that does not leak the message", resp.StatusCode, body)
		}
		if resp, body = do(t, "GET", base+"/", ""); resp.StatusCode != 200 || body != "hello from assemblyscript\n" {
			t.Errorf("/ after /fail: got %d %q", resp.StatusCode, body)
		}
	})
}

// A failed assert reaches the server's log with its message, file, line
// and column.
func TestAssemblyScriptAssertLogged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the wasmcluster binary")
	}
	srv := startBinary(t, example(t, "hello-assemblyscript"), "", upstream(t).URL)
	if resp, _ := do(t, "GET", srv.URL()+"/fail", ""); resp.StatusCode != 500 {
		t.Fatalf("/fail: got %d, want 500", resp.StatusCode)
	}
	srv.WaitLog("the /fail route always fails")
	for _, line := range strings.Split(srv.Log.String(), "\n") {
		if strings.Contains(line, `"msg":"plugin failed"`) {
			for _, w := range []string{`"level":"ERROR"`, `"request_id":`, `"abort":{`, `"message":"the /fail route always fails"`, `"file":"assembly/index.ts"`, `"line":`, `"column":`} {
				if !strings.Contains(line, w) {
					t.Errorf("abort record lacks %s: %s", w, line)
				}
			}
			return
		}
	}
	t.Errorf("no abort record in the log:\n%s", srv.Log.String())
}
