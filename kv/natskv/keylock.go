package natskv

import (
	"context"
	"sync"
)

// keyLocks serializes this client's increments of one key: without it, n
// goroutines of one process on a hot counter are n contenders of the
// compare-and-swap loop, and most of their round trips are lost to
// conflicts. Other clients remain contenders; the loop handles them.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while locked
	refs int
}

// lock waits for key's lock or ctx; unlock must follow a nil error.
func (l *keyLocks) lock(ctx context.Context, key string) error {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLock)
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	select {
	case k.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		l.release(key, k)
		return ctx.Err()
	}
}

func (l *keyLocks) unlock(key string) {
	l.mu.Lock()
	k := l.locks[key]
	l.mu.Unlock()
	<-k.ch
	l.release(key, k)
}

func (l *keyLocks) release(key string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.locks, key)
	}
}
