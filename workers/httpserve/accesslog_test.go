package httpserve

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAccessLogFormats(t *testing.T) {
	start := time.Date(2026, 11, 25, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct{ format, want string }{
		{AccessLogCommon, `192.0.2.1 - - [25/Nov/2026:03:04:05 +0000] "GET /a%20b?q="x" HTTP/1.1" 404 12`},
		{AccessLogCombined, `192.0.2.1 - - [25/Nov/2026:03:04:05 +0000] "GET /a%20b?q="x" HTTP/1.1" 404 12 "" "ua \"quoted\""`},
	} {
		var buf bytes.Buffer
		a := newAccessLog(tc.format, &buf)
		r := httptest.NewRequest("GET", "/a%20b?q=\"x\"", nil)
		r.RequestURI = `/a b?q="x"` // as a client could send it
		r.Header.Set("User-Agent", `ua "quoted"`)
		a.log(r, 404, 12, start, time.Millisecond)
		got := strings.TrimSuffix(buf.String(), "\n")
		want := strings.ReplaceAll(tc.want, `q="x"`, `q=\"x\"`)
		if got != want || strings.Count(buf.String(), "\n") != 1 {
			t.Errorf("%s:\n got %s\nwant %s", tc.format, got, want)
		}
	}
	var buf bytes.Buffer
	newAccessLog(AccessLogJSON, &buf).log(httptest.NewRequest("POST", "/j", nil), 200, 0, start, 1500*time.Microsecond)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json line %q: %v", buf.String(), err)
	}
	if rec["msg"] != "access" || rec["level"] != "INFO" || rec["status"] != 200.0 || rec["method"] != "POST" || rec["duration_seconds"] != 0.0015 {
		t.Errorf("json record %v", rec)
	}
	if newAccessLog("off", &buf) != nil || newAccessLog("", &buf) != nil {
		t.Error("off is not nil")
	}
}
