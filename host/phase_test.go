package host

import "testing"

// faults reports whether f raised a guestFault.
func faults(f func()) (faulted bool) {
	defer func() {
		if rec := recover(); rec != nil {
			if _, ok := rec.(*guestFault); !ok {
				panic(rec)
			}
			faulted = true
		}
	}()
	f()
	return false
}

// TestPhaseRules pins the ABI's phase rules: the request changes only
// before next; the response changes before next, and after next only when
// it was captured (buffer_response).
func TestPhaseRules(t *testing.T) {
	for _, tc := range []struct {
		ph               phase
		name             string
		afterNext        bool
		requestFrozen    bool
		responseReadOnly bool
	}{
		{phaseIdle, "idle", false, false, false},
		{phaseRequest, "request", false, false, false},
		{phaseStreaming, "streaming", false, false, false},
		{phasePassthrough, "passthrough", true, true, true},
		{phaseCaptured, "captured", true, true, false},
	} {
		rq := &request{phase: tc.ph}
		if got := tc.ph.String(); got != tc.name {
			t.Errorf("phase %d is named %q, want %q", tc.ph, got, tc.name)
		}
		if got := tc.ph.afterNext(); got != tc.afterNext {
			t.Errorf("%v: afterNext = %v, want %v", tc.ph, got, tc.afterNext)
		}
		if got := faults(func() { rq.beforeNext("f") }); got != tc.requestFrozen {
			t.Errorf("%v: changing the request faults = %v, want %v", tc.ph, got, tc.requestFrozen)
		}
		if got := faults(func() { rq.responseWritable("f") }); got != tc.responseReadOnly {
			t.Errorf("%v: changing the response faults = %v, want %v", tc.ph, got, tc.responseReadOnly)
		}
	}
}
