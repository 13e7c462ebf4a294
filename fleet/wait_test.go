package fleet

import (
	"strings"
	"testing"
	"time"
)

// Judge sorts instances by what they did with a version; a refusal or a
// revert before since (an earlier publish of the same bytes) is not this
// publish's; Done and Err follow.
func TestJudge(t *testing.T) {
	v := "abcdef0123456789"
	now := time.Now()
	reps := []Report{
		{ID: "a", Version: v, WorkersReady: 1},
		{ID: "b", Version: v, WorkersReady: 1, Settling: true},
		{ID: "c", Version: "old", WorkersReady: 1, LastRefused: &Refusal{Version: v, Error: "GET / answered 503", At: now}},
		{ID: "d", Version: "old", WorkersReady: 1, LastReverted: &Refusal{Version: v, Error: "crash-looped", At: now}},
		{ID: "e", Version: "old", WorkersReady: 1, Waiting: v},
		{ID: "f", Version: "old", WorkersReady: 1, LastRefused: &Refusal{Version: v, Error: "stale", At: now.Add(-time.Hour)}},
	}
	p := Judge(reps, v[:8], now.Add(-time.Second))
	ids := func(rs []Report) (s string) {
		for _, r := range rs {
			s += r.ID
		}
		return s
	}
	failed := ""
	for _, f := range p.Failed {
		failed += f.ID
	}
	if ids(p.Running) != "a" || ids(p.Settling) != "b" || failed != "cd" || ids(p.Behind) != "ef" {
		t.Fatalf("running %q settling %q failed %q behind %q", ids(p.Running), ids(p.Settling), failed, ids(p.Behind))
	}
	if p.Done(false) {
		t.Errorf("done with instances behind")
	}
	err := p.Err(v, true)
	for _, want := range []string{"5 of 6 live instances do not run abcdef012345", "c () refused it: GET / answered 503",
		"d () went back from it: crash-looped", "e () waits for a roll slot", "b () runs it, still watched for a crash loop"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err: %v; want %q", err, want)
		}
	}
	p = Judge(reps[:4], v, time.Time{})
	if !p.Done(false) || p.Done(true) {
		t.Errorf("with a, b on it and c, d failed: Done(false) %v, Done(true) %v; want true, false", p.Done(false), p.Done(true))
	}
	if p = Judge(reps[:2], v, time.Time{}); p.Err(v, false) != nil || p.Err(v, true) == nil {
		t.Errorf("a and b on it: Err(false) %v, Err(true) %v", p.Err(v, false), p.Err(v, true))
	}
}
