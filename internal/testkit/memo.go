package testkit

import (
	"sync"
	"sync/atomic"
)

// memo runs each build once per test binary and hands every caller the
// same result, errors included: a broken guest fails each test that needs
// it at once instead of being rebuilt by each. Builds of different keys run
// in parallel; callers of one key wait for its single build.
type memo[T any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[T]
	runs    atomic.Int64 // builds actually run, for the kit's own tests
}

type memoEntry[T any] struct {
	once sync.Once
	val  T
	err  error
}

// get returns the result of build for key, running build only on the first
// call for that key. build must not call testing.TB methods: it may run on
// behalf of several tests.
func (m *memo[T]) get(key string, build func() (T, error)) (T, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*memoEntry[T]{}
	}
	e, ok := m.entries[key]
	if !ok {
		e = &memoEntry[T]{}
		m.entries[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() {
		m.runs.Add(1)
		e.val, e.err = build()
	})
	return e.val, e.err
}
