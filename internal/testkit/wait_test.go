package testkit

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForPolls(t *testing.T) {
	var n atomic.Int32
	WaitFor(t, time.Minute, "three looks", func() bool { return n.Add(1) == 3 })
	if n.Load() != 3 {
		t.Errorf("cond called %d times, want 3", n.Load())
	}
}

func TestEventuallyPolls(t *testing.T) {
	n := 0
	Eventually(t, time.Minute, func() error {
		if n++; n < 3 {
			return fmt.Errorf("look %d", n)
		}
		return nil
	})
	if n != 3 {
		t.Errorf("check called %d times, want 3", n)
	}
}

// Past the deadline, the test fails saying what it waited for.
func TestWaitTimeouts(t *testing.T) {
	switch childMode() {
	case "waitfor":
		WaitFor(t, 0, "the moon", func() bool { return false })
		t.Log("child: went on after the deadline")
		return
	case "eventually":
		Eventually(t, 0, func() error { return errors.New("still 3 jobs") })
		t.Log("child: went on after the deadline")
		return
	}
	out, passed := runChild(t, "waitfor")
	wantChild(t, out, passed, false, "timed out after 0s waiting for the moon")
	out, passed = runChild(t, "eventually")
	wantChild(t, out, passed, false, "timed out after 0s: still 3 jobs")
	if strings.Contains(out, "child: went on") {
		t.Error("the test went on after the deadline")
	}
}
