package workers

import "time"

// loop is the plumbing of a goroutine that owns state (the supervisor, or
// the in-process server's loop): other goroutines run functions on it and
// learn when it has returned. The owner reads cmds and closes quit.
type loop struct {
	cmds chan func()
	quit chan struct{} // closed when the owner's loop returns
}

func newLoop() loop {
	return loop{cmds: make(chan func()), quit: make(chan struct{})}
}

// do runs f on the loop's goroutine and waits; false if it has returned.
func (l *loop) do(f func()) bool {
	done := make(chan struct{})
	select {
	case l.cmds <- func() { f(); close(done) }:
		<-done
		return true
	case <-l.quit:
		return false
	}
}

// responsive reports whether the loop picks up a no-op command within d.
func (l *loop) responsive(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case l.cmds <- func() {}:
		return true
	case <-l.quit:
		return false
	case <-timer.C:
		return false
	}
}
