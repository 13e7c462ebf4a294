package testkit

import (
	"testing"
	"time"
)

// pollEvery is how often the wait helpers look again: fine enough that a
// test does not sleep long past the event, coarse enough not to load the
// machine other tests share.
const pollEvery = 10 * time.Millisecond

// WaitFor polls cond until it holds, failing the test with "timed out
// after <timeout> waiting for <what>" if it does not within timeout. The
// timeout is a bound on a hung test, not an assertion about speed: make it
// generous.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// Eventually polls check until it returns nil, failing the test with
// check's last error if it does not within timeout: for conditions whose
// failure message needs the state seen last (stats, a log).
func Eventually(tb testing.TB, timeout time.Duration, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v: %v", timeout, err)
		}
		time.Sleep(pollEvery)
	}
}
