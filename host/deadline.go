package host

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Deadlines without a timer per request. wazero interrupts a guest when the
// context of its call is done (close-on-context-done). Handing it
// context.WithTimeout(r.Context(), …) costs a timer, a context and a
// registration in the request's context on every request (~18 % of the
// host's CPU on a hello guest). Instead each instance owns one callContext
// whose Done channel the plugin's watchdog closes when the request overruns
// its deadline or its client leaves; the request path only stores a start
// time. RATIONALE.md, "Why one watchdog instead of a timer per request?".

// callContext is the context of an instance's export calls. It carries the
// instance to host functions and is reused across requests: wazero's
// interrupt goroutine of an earlier call only acts while that call runs.
type callContext struct {
	inst *instance
	done chan struct{}                // closed by interrupt, never reopened
	why  atomic.Int32                 // why done was closed
	req  atomic.Pointer[http.Request] // the request being served, for the watchdog
}

// Why a call was interrupted.
const (
	stopDeadline int32 = iota + 1
	stopCanceled
)

func (c *callContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *callContext) Done() <-chan struct{}       { return c.done }

func (c *callContext) Err() error {
	switch c.why.Load() {
	case stopDeadline:
		return context.DeadlineExceeded
	case stopCanceled:
		return context.Canceled
	}
	return nil
}

// Value answers only the instance: guests see nothing of the request's
// context values, and wazero's own lookups stay one comparison.
func (c *callContext) Value(key any) any {
	if key == (instanceKey{}) {
		return c.inst
	}
	return nil
}

// begin marks inst as serving r since start.
func (inst *instance) begin(r *http.Request, start time.Time) {
	inst.call.req.Store(r)
	inst.started.Store(start.UnixNano())
}

// end marks inst idle. It reports whether the watchdog interrupted the
// request meanwhile: the instance is then closed or closing, and must not
// serve again.
func (inst *instance) end() (interrupted bool) {
	interrupted = inst.started.Swap(0) == -1
	inst.call.req.Store(nil)
	return interrupted
}

// interrupt stops the request that began at started, if it is still the
// one running: the guest traps at its next loop or call and the request
// ends with why's error.
func (inst *instance) interrupt(started int64, why int32) bool {
	if !inst.started.CompareAndSwap(started, -1) {
		return false // it ended, or another request took the instance
	}
	inst.call.why.Store(why)
	close(inst.call.done)
	return true
}
